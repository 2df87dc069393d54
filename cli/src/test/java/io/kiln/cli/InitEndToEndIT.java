package io.kiln.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A user's own function from nothing, outside this repository, for every {@code kiln init}
 * template: {@code bin/kiln init} in a temporary directory, {@code mvn package} (which runs the
 * project's own test through the test kit), {@code kiln deploy --project .}, {@code kiln invoke}
 * with the exact answer checked, {@code kiln logs}; and {@code kiln invoke --local} once. The
 * handler template is made by following README.md's "Your first function" line by line; the
 * other two by following the README each generated project has.
 *
 * <p>The projects resolve kiln-function-api and kiln-function-testkit from the local Maven
 * repository, as a user's do: {@code ./test.sh} installs them ({@code -Pfunction-kit install})
 * before this test runs, and the test first checks that what is installed is what this build
 * made. One server for all three, on the real engine (QEMU TCG here).
 */
class InitEndToEndIT {

    private static Path repo;
    private static Path work;
    private static Path projects;
    private static GatewayProcess gateway;
    private static Map<String, String> env;

    @BeforeAll
    static void start() throws Exception {
        repo = Path.of(System.getProperty("kiln.repo")).toRealPath();
        kitInstalled();
        work = Files.createDirectories(Path.of(System.getProperty("kiln.test.work"))
                .resolve("init-e2e-" + ProcessHandle.current().pid()));
        projects = Files.createTempDirectory("kiln-init-e2e-"); // outside the repository: no parent pom above
        assertTrue(!projects.toRealPath().startsWith(repo), projects + " is inside " + repo);
        gateway = GatewayProcess.start(work, "auto", Duration.ofMinutes(2));
        env = Map.of("KILN_URL", gateway.url, "KILN_DATA", gateway.dataDir.toString());
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) {
            gateway.stop();
        }
        if (projects != null) {
            try (Stream<Path> all = Files.walk(projects)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The function API and test kit in ~/.m2 are this build's, byte for byte (./test.sh installs them). */
    private static void kitInstalled() throws Exception {
        String version = System.getProperty("kiln.version");
        Path m2 = Path.of(System.getProperty("kiln.m2"));
        for (String[] a : new String[][]{{"api", "kiln-function-api"}, {"testkit", "kiln-function-testkit"}}) {
            String file = a[1] + "-" + version + ".jar";
            Path built = repo.resolve("function-runtime/" + a[0] + "/target/" + file);
            Path installed = m2.resolve("io/kiln/" + a[1] + "/" + version + "/" + file);
            if (!Files.isRegularFile(installed) || !Arrays.equals(Files.readAllBytes(built), Files.readAllBytes(installed))) {
                fail(installed + " is missing or not this build's " + built + ": install the function kit first, as "
                        + "./test.sh does (mvn -B -ntp -Pfunction-kit install), or: mvn -B -ntp -DskipTests "
                        + "-Pfunction-kit -pl function-runtime/testkit -am install");
            }
        }
    }

    @Test
    void yourFirstFunctionAsTheReadmeSaysIt() throws Exception {
        List<String> lines = shBlock(Files.readString(repo.resolve("README.md")), "## Your first function");
        assertEquals("kiln init my-function", lines.get(0), "the section starts a project: " + lines);
        Path cwd = projects;
        int invokes = 0;
        for (String line : lines) {
            List<String> words = words(line);
            if (words.get(0).equals("cd")) {
                cwd = cwd.resolve(words.get(1));
                continue;
            }
            KilnProcess r = run(cwd, words);
            assertEquals(0, r.exit(), line + "\n" + r);
            if (line.startsWith("kiln invoke ")) {
                assertEquals("{\"message\":\"Hello, Ada!\"}", r.out(), line + "\n" + r);
                invokes++;
            }
            if (line.contains("--local")) {
                assertTrue(r.err().contains("NOT isolated"), r.err());
                assertTrue(r.err().contains("greeting Ada"), "the function's log line, as it ran: " + r.err());
            }
            checkStep(cwd, "my-function", "MyFunction", "greeting Ada", words, r);
        }
        assertEquals(2, invokes, "one local call and one on the server: " + lines);
    }

    @Test
    void httpTemplate() throws Exception {
        fromTemplate("first-http", "http", "Hello, Ada!", "GET / for Ada");
    }

    @Test
    void lambdaTemplate() throws Exception {
        fromTemplate("first-lambda", "lambda", "\"Hello, Ada!\"", "greeting Ada");
    }

    /** kiln init, then the generated README's lines, in order. */
    private static void fromTemplate(String name, String template, String answer, String logLine) throws Exception {
        KilnProcess init = run(projects, List.of("kiln", "init", name, "--template", template));
        assertEquals(0, init.exit(), init.toString());
        assertEquals("Function API " + System.getProperty("kiln.version") + ", the version of the server at " + gateway.url
                + "\n", init.err(), "and no note that the function kit is missing: " + init);
        Path dir = projects.resolve(name);
        List<String> lines = shBlock(Files.readString(dir.resolve("README.md")), "# " + name);
        assertEquals(List.of("mvn package", "kiln deploy " + name + " --project . --handler ",
                        "kiln invoke " + name + " ", "kiln logs " + name),
                lines.stream().map(l -> l.startsWith("kiln deploy") ? l.substring(0, l.indexOf("--handler ") + 10)
                        : l.startsWith("kiln invoke") ? l.substring(0, ("kiln invoke " + name + " ").length()) : l).toList());
        String cls = InitCommand.className(name);
        for (String line : lines) {
            List<String> words = words(line);
            KilnProcess r = run(dir, words);
            assertEquals(0, r.exit(), line + "\n" + r);
            if (line.startsWith("kiln invoke ")) {
                assertEquals(answer, r.out(), line + "\n" + r);
            }
            checkStep(dir, name, cls, logLine, words, r);
        }
    }

    /** What each kind of step must have done, beyond exiting with 0. */
    private static void checkStep(Path dir, String name, String cls, String logLine, List<String> words, KilnProcess r)
            throws Exception {
        String cmd = String.join(" ", words.subList(0, Math.min(2, words.size())));
        switch (cmd) {
            case "kiln init" -> assertTrue(Files.isRegularFile(dir.resolve(name).resolve("pom.xml")), r.toString());
            case "mvn package" -> {
                assertTrue(Files.isRegularFile(dir.resolve("target/" + name + ".jar")), r.toString());
                Path report;
                try (Stream<Path> s = Files.list(dir.resolve("target/surefire-reports"))) {
                    report = s.filter(p -> p.getFileName().toString().matches("TEST-.*\\." + cls + "Test\\.xml"))
                            .findFirst().orElseThrow(() -> new AssertionError("no test report for " + cls + "Test"));
                }
                String xml = Files.readString(report);
                assertTrue(xml.matches("(?s).*<testsuite [^>]*tests=\"[1-9]\\d*\" errors=\"0\" skipped=\"0\" failures=\"0\".*"),
                        "the project's own tests ran and passed: " + xml.substring(0, Math.min(600, xml.length())));
            }
            case "kiln deploy" -> assertTrue(r.out().startsWith("Deployed " + name + " version 1 "), r.toString());
            case "kiln logs" -> assertTrue(r.out().lines().anyMatch(l -> l.matches(".* [0-9a-f]{16} +log +" + logLine)),
                    "the call's log line, with its call id: " + r.out());
            default -> {
                // invoke: checked by the caller, which knows the answer
            }
        }
    }

    /** Runs one README line: kiln is this repository's bin/kiln, mvn runs in batch mode. */
    private static KilnProcess run(Path cwd, List<String> words) throws Exception {
        List<String> cmd = new ArrayList<>();
        switch (words.get(0)) {
            case "kiln" -> cmd.add(repo.resolve("bin/kiln").toString());
            case "mvn" -> cmd.addAll(List.of("mvn", "-B", "-ntp"));
            default -> fail("a README line runs kiln, mvn or cd, not " + words);
        }
        cmd.addAll(words.subList(1, words.size()));
        long started = System.nanoTime();
        KilnProcess r = KilnProcess.run(work, cwd, env, null, cmd.toArray(String[]::new));
        System.out.printf("[test] %s (in %s): exit %d, %d ms%n", String.join(" ", words), cwd, r.exit(),
                (System.nanoTime() - started) / 1_000_000);
        return r;
    }

    /** The lines of the first {@code ```sh} block after {@code heading}, comments cut. */
    static List<String> shBlock(String markdown, String heading) {
        int at = markdown.indexOf("\n" + heading + "\n");
        if (at < 0 && markdown.startsWith(heading + "\n")) {
            at = 0;
        }
        assertTrue(at >= 0, "no heading '" + heading + "'");
        int start = markdown.indexOf("```sh\n", at);
        int end = markdown.indexOf("\n```", start + 6);
        assertTrue(start > 0 && end > start, "no ```sh block after '" + heading + "'");
        return markdown.substring(start + 6, end).lines().map(InitEndToEndIT::uncomment)
                .filter(l -> !l.isEmpty()).toList();
    }

    private static String uncomment(String line) {
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                quote = c == quote ? 0 : quote;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return line.substring(0, i).strip();
            }
        }
        return line.strip();
    }

    /** A shell line's words: blanks separate them, single and double quotes group and are removed. */
    static List<String> words(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (char c : line.toCharArray()) {
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    w.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(w.toString());
                    w.setLength(0);
                    inWord = false;
                }
            } else {
                w.append(c);
                inWord = true;
            }
        }
        assertEquals(0, quote, "unbalanced quotes in " + line);
        if (inWord) {
            words.add(w.toString());
        }
        return words;
    }

    @Test
    void readmeLinesSplitAsAShellSplitsThem() {
        assertEquals(List.of("kiln", "invoke", "f", "--data", "{\"name\":\"Ada\"}", "--path", "/?a=b c"),
                words("kiln invoke f --data '{\"name\":\"Ada\"}' --path \"/?a=b c\""));
        assertEquals("kiln logs f", uncomment("kiln logs f   # the call's log line"));
        assertEquals("kiln invoke f --data '#1'", uncomment("kiln invoke f --data '#1'"));
        assertArrayEquals(new String[]{"a"}, shBlock("# t\n\n```sh\na # one\n\n```\n", "# t").toArray());
    }
}
