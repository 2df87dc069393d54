package io.kiln.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import javax.lang.model.SourceVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** {@code kiln init NAME [--template T] [--package P]}: a new function project in {@code ./NAME}. */
@Command(name = "init", sortOptions = false, usageHelpAutoWidth = true,
        header = "Create a new function project: a Maven build, a handler, its test, a README.",
        description = {
            "Creates the directory NAME (it must not exist) with a standalone Maven project: pom.xml, the handler, "
                    + "a unit test that calls it through the test kit as a deployed call would, and a README with "
                    + "the exact deploy and invoke lines. `mvn package` builds target/NAME.jar.",
            "The project depends on io.kiln:kiln-function-api and kiln-function-testkit at the server's version "
                    + "(from GET /healthz; --api-version, or this CLI's version when no server answers). They come "
                    + "from the local Maven repository, where ./run.sh installs them.",
            "Templates: handler (a Kiln Handler, JSON in and out; the default), http (HttpRequest in, HttpResponse "
                    + "out), lambda (an AWS Lambda RequestHandler, aws-lambda-java-core bundled in the jar). Batch-record "
                    + "and scheduled handlers come with events and schedules, which Kiln does not have yet.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  kiln init hello",
            "  kiln init orders-api --template http --package com.acme.orders",
            "  cd hello && mvn package && kiln deploy hello --project . --handler com.example.hello.Hello",
        })
final class InitCommand implements Callable<Integer> {

    /** What a template makes, and how its README calls it. */
    enum Template {
        handler("A Kiln `Handler`: JSON in, JSON out.", "--data '{\"name\":\"Ada\"}'", "{\"message\":\"Hello, Ada!\"}"),
        http("An HTTP handler: `HttpRequest` in, `HttpResponse` out.", "--method GET --path '/?name=Ada'", "Hello, Ada!"),
        lambda("An AWS Lambda `RequestHandler`, run unchanged with Lambda's semantics.", "--data '{\"name\":\"Ada\"}'",
                "\"Hello, Ada!\"");

        final String about;
        /** The {@code kiln invoke NAME} arguments of the README. */
        final String invoke;
        /** What that call answers, exactly. */
        final String answer;

        Template(String about, String invoke, String answer) {
            this.about = about;
            this.invoke = invoke;
            this.answer = answer;
        }

        static String names() {
            return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
        }
    }

    /** The names the server accepts (FunctionStore). */
    static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    /** Class names a handler must not take: they would hide what its source uses. */
    private static final Set<String> TAKEN = Set.of("Context", "Handler", "HttpRequest", "HttpResponse",
            "RequestHandler", "Map", "List", "Test", "FunctionTester", "Result", "Request", "Response");
    private static final String RESOURCES = "/io/kiln/cli/init/";

    @picocli.CommandLine.Mixin
    HelpOption help;

    @ParentCommand
    Kiln kiln;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME",
            description = "The function's name (lower-case letters, digits, '-'); also the directory and the artifactId.")
    String name;

    @Option(names = {"-t", "--template"}, paramLabel = "T",
            description = "handler (default), http or lambda.")
    String template = Template.handler.name();

    @Option(names = {"-p", "--package"}, paramLabel = "P",
            description = "The Java package (default com.example.NAME without its dashes).")
    String pkg;

    @Option(names = "--api-version", paramLabel = "V",
            description = "The kiln-function-api version to build against (default: the server's).")
    String apiVersion;

    @Override
    public Integer call() {
        if (!NAME.matcher(name).matches()) {
            throw Kiln.usage(spec, "'" + name + "' is not a function name: use lower-case letters, digits and '-', "
                    + "at most 63, starting and ending with a letter or digit (like hello or orders-api).");
        }
        Template t = template(template);
        String javaPackage = pkg != null ? pkg : defaultPackage(name);
        if (!SourceVersion.isName(javaPackage) || !javaPackage.equals(javaPackage.toLowerCase(Locale.ROOT))) {
            throw Kiln.usage(spec, "'" + javaPackage + "' is not a Java package name: use lower-case words "
                    + "separated by dots, none of them a Java keyword (like com.acme.orders).");
        }
        Path dir = kiln.env().path(name);
        if (Files.exists(dir)) {
            throw new CliException(Exit.USAGE, dir + " already exists; kiln init writes only new directories. "
                    + "Choose another name, or remove it first.");
        }
        PrintStream err = kiln.env().err();
        String version = version(err);
        String cls = className(name);
        Map<String, String> values = new LinkedHashMap<>();
        values.put("name", name);
        values.put("template", t.name());
        values.put("package", javaPackage);
        values.put("class", cls);
        values.put("handler", javaPackage + "." + cls);
        values.put("version", version);
        values.put("about", t.about);
        values.put("invoke", t.invoke);
        values.put("answer", t.answer);
        values.put("dependencies", dependencies(t));

        Path src = Path.of("src", "main", "java").resolve(javaPackage.replace('.', '/'));
        Path test = Path.of("src", "test", "java").resolve(javaPackage.replace('.', '/'));
        Map<Path, String> files = new LinkedHashMap<>();
        files.put(Path.of("pom.xml"), fill("pom.xml", values));
        files.put(Path.of("README.md"), fill("README.md", values));
        files.put(Path.of(".gitignore"), fill("gitignore", values));
        files.put(src.resolve(cls + ".java"), fill(t.name() + "/Function.java", values));
        files.put(test.resolve(cls + "Test.java"), fill(t.name() + "/FunctionTest.java", values));
        try {
            Files.createDirectories(dir.getParent());
            Files.createDirectory(dir); // fails if it appeared meanwhile: never write into someone's directory
            for (Map.Entry<Path, String> f : files.entrySet()) {
                Path p = dir.resolve(f.getKey());
                Files.createDirectories(p.getParent());
                Files.writeString(p, f.getValue(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new CliException(Exit.FAILED, "Cannot create " + dir + ": " + e);
        }

        kitMissing(version).ifPresent(err::println);
        PrintStream out = kiln.env().out();
        out.println("Created " + dir + " (" + t.name() + " template, handler " + values.get("handler") + ")");
        out.println();
        out.println("  cd " + name);
        out.println("  mvn package");
        out.println("  kiln deploy " + name + " --project . --handler " + values.get("handler"));
        out.println("  kiln invoke " + name + " " + t.invoke);
        out.flush();
        return Exit.OK;
    }

    private Template template(String given) {
        String t = given.toLowerCase(Locale.ROOT);
        if (t.equals("batch") || t.equals("scheduled")) {
            throw Kiln.usage(spec, "There is no " + t + " template yet: batch-record and scheduled handlers come "
                    + "with events and schedules, which Kiln does not have yet. Templates: " + Template.names() + ".");
        }
        try {
            return Template.valueOf(t);
        } catch (IllegalArgumentException e) {
            throw Kiln.usage(spec, "There is no template '" + given + "'. Templates: " + Template.names() + ".");
        }
    }

    /**
     * The function API version: --api-version, else the server's ({@code /healthz}), else this
     * CLI's own (they are built together), saying which.
     */
    private String version(PrintStream err) {
        if (apiVersion != null) {
            return apiVersion;
        }
        String url = kiln.settings().url().toString();
        String why;
        try {
            String server = kiln.client().getJson("/healthz", null).path("version").asText("unknown");
            if (!server.equals("unknown")) {
                err.println("Function API " + server + ", the version of the server at " + url);
                return server;
            }
            why = "the Kiln server at " + url + " does not say its version";
        } catch (CliException unreachable) {
            why = "no Kiln server answered at " + url;
        }
        String own = Kiln.version();
        if (own.equals("dev")) {
            throw Kiln.usage(spec, "This CLI does not know its own version and " + why + ": give --api-version.");
        }
        err.println("Function API " + own + ", this CLI's version (" + why + ")");
        return own;
    }

    /** A warning when the function kit of {@code version} is not in ~/.m2/repository, where the project looks for it. */
    private java.util.Optional<String> kitMissing(String version) {
        Path repo = kiln.env().home().resolve(".m2/repository/io/kiln");
        for (String artifact : new String[]{"kiln-function-api", "kiln-function-testkit"}) {
            if (!Files.isRegularFile(repo.resolve(artifact).resolve(version).resolve(artifact + "-" + version + ".jar"))) {
                return java.util.Optional.of("Note: io.kiln:" + artifact + ":" + version + " is not in ~/.m2/repository, "
                        + "and `mvn package` needs it. Install the function kit: ./run.sh in the Kiln repository, or "
                        + "there: mvn -B -ntp -DskipTests -Pfunction-kit -pl function-runtime/testkit -am install");
            }
        }
        return java.util.Optional.empty();
    }

    /** The template's main dependency, indented for the pom's {@code <dependencies>}. */
    private static String dependencies(Template t) {
        if (t == Template.lambda) {
            return String.join("\n",
                    "    <dependency>",
                    "      <!-- Lambda's interfaces, bundled in the jar as for AWS Lambda. -->",
                    "      <groupId>com.amazonaws</groupId>",
                    "      <artifactId>aws-lambda-java-core</artifactId>",
                    "      <version>1.2.3</version>",
                    "    </dependency>");
        }
        return String.join("\n",
                "    <dependency>",
                "      <!-- Provided: Kiln runs every function against its own copy. -->",
                "      <groupId>io.kiln</groupId>",
                "      <artifactId>kiln-function-api</artifactId>",
                "      <version>${kiln.version}</version>",
                "      <scope>provided</scope>",
                "    </dependency>");
    }

    /** com.example.NAME without dashes, {@code fn} in front of a part that would not be a Java name. */
    static String defaultPackage(String name) {
        String last = name.replace("-", "");
        if (!SourceVersion.isIdentifier(last) || SourceVersion.isKeyword(last)) {
            last = "fn" + last;
        }
        return "com.example." + last;
    }

    /** NAME in upper camel case ({@code orders-api} → {@code OrdersApi}); {@code Fn} in front of a digit, {@code Function} after a taken name. */
    static String className(String name) {
        StringBuilder sb = new StringBuilder();
        for (String part : name.split("-")) {
            if (!part.isEmpty()) {
                sb.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
            }
        }
        String cls = Character.isDigit(sb.charAt(0)) ? "Fn" + sb : sb.toString();
        if (TAKEN.contains(cls) || inJavaLang(cls)) {
            cls += "Function";
        }
        return cls;
    }

    private static boolean inJavaLang(String simpleName) {
        try {
            Class.forName("java.lang." + simpleName, false, ClassLoader.getPlatformClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    private static String fill(String resource, Map<String, String> values) {
        String text;
        try (InputStream in = InitCommand.class.getResourceAsStream(RESOURCES + resource)) {
            if (in == null) {
                throw new IllegalStateException("template " + resource + " is missing from the CLI jar");
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read template " + resource, e);
        }
        for (Map.Entry<String, String> v : values.entrySet()) {
            text = text.replace("{{" + v.getKey() + "}}", v.getValue());
        }
        if (text.contains("{{")) {
            throw new IllegalStateException("template " + resource + " has a placeholder left: " + text);
        }
        return text;
    }
}
