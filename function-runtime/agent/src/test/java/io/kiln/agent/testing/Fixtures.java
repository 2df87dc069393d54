package io.kiln.agent.testing;

import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * User jars built at test time from {@code src/test/fixtures}: compiled with javax.tools against
 * the function API (and aws-lambda-java-core), then packed the way users deploy them. Built once
 * per JVM.
 */
public final class Fixtures {

    private static final Map<String, byte[]> JARS = new ConcurrentHashMap<>();

    private Fixtures() {
    }

    /**
     * Every handler in {@code fixtures/functions}, as a fat jar that bundles
     * aws-lambda-java-core like a real Lambda deployment does.
     */
    public static byte[] functions() {
        return JARS.computeIfAbsent("functions", k -> {
            Path classes = compile("functions", List.of(Classpath.of(io.kiln.function.Handler.class),
                    lambdaCore()));
            return jar(classes, List.of(lambdaCore()), Map.of());
        });
    }

    /**
     * The Lambda handlers of AWS event types in {@code fixtures/events}, as a fat jar that
     * bundles aws-lambda-java-core, aws-lambda-java-events and joda-time like a real Lambda
     * deployment. Needs those on the test class path (the agent module has them; modules that
     * only use {@link #functions()} need not).
     */
    public static byte[] events() {
        return JARS.computeIfAbsent("events", k -> {
            List<Path> lambda = List.of(lambdaCore(),
                    onClasspath("com.amazonaws.services.lambda.runtime.events.SQSEvent"),
                    onClasspath("org.joda.time.DateTime"));
            return jar(compile("events", lambda), lambda, Map.of());
        });
    }

    /** The Lambda zip layout: the function's classes plus {@code lib/helper.jar}. */
    public static byte[] withLib() {
        return JARS.computeIfAbsent("libjar", k -> {
            Path helperClasses = compile("helper", List.of());
            byte[] helper = jar(helperClasses, List.of(), Map.of());
            Path helperJar = work().resolve("helper.jar");
            write(helperJar, helper);
            Path classes = compile("libjar", List.of(helperJar));
            return jar(classes, List.of(), Map.of("lib/helper.jar", helper));
        });
    }

    public static Path work() {
        Path p = Path.of(System.getProperty("kiln.test.work", "target/test-work"));
        try {
            return Files.createDirectories(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path lambdaCore() {
        return onClasspath("com.amazonaws.services.lambda.runtime.Context");
    }

    /** The jar of {@code className} on the test class path. */
    private static Path onClasspath(String className) {
        try {
            return Classpath.of(Class.forName(className, false, Fixtures.class.getClassLoader()));
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(className + " must be on the test classpath", e);
        }
    }

    private static Path compile(String fixture, List<Path> classpath) {
        Path src = Path.of(System.getProperty("kiln.test.fixtures", "src/test/fixtures"), fixture);
        Path out = work().resolve("fixtures").resolve(fixture);
        try {
            deleteTree(out);
            Files.createDirectories(out);
            List<Path> sources;
            try (Stream<Path> s = Files.walk(src)) {
                sources = s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
            }
            JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
            try (StandardJavaFileManager files = javac.getStandardFileManager(null, null, null)) {
                List<String> options = new ArrayList<>(List.of("--release", "17", "-proc:none",
                        "-nowarn", "-d", out.toString()));
                if (!classpath.isEmpty()) {
                    options.add("-cp");
                    options.add(String.join(java.io.File.pathSeparator,
                            classpath.stream().map(Path::toString).toList()));
                }
                boolean ok = javac.getTask(null, files, null, options, null,
                        files.getJavaFileObjectsFromPaths(sources)).call();
                if (!ok) {
                    throw new IllegalStateException("fixture " + fixture + " does not compile");
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A jar of {@code classes}, the entries of {@code bundled} jars, and extra entries. */
    private static byte[] jar(Path classes, List<Path> bundled, Map<String, byte[]> extra) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        try (JarOutputStream jar = new JarOutputStream(bytes, mf)) {
            List<Path> files;
            try (Stream<Path> s = Files.walk(classes)) {
                files = s.filter(Files::isRegularFile).sorted().toList();
            }
            for (Path f : files) {
                put(jar, classes.relativize(f).toString().replace('\\', '/'), Files.readAllBytes(f));
            }
            for (Path b : bundled) {
                try (JarFile in = new JarFile(b.toFile())) {
                    for (JarEntry e : java.util.Collections.list(in.entries())) {
                        if (e.isDirectory() || e.getName().equals(JarFile.MANIFEST_NAME)) {
                            continue;
                        }
                        try (InputStream is = in.getInputStream(e)) {
                            put(jar, e.getName(), is.readAllBytes());
                        }
                    }
                }
            }
            for (Map.Entry<String, byte[]> e : extra.entrySet()) {
                put(jar, e.getKey(), e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void put(JarOutputStream jar, String name, byte[] content) throws IOException {
        jar.putNextEntry(new JarEntry(name));
        jar.write(content);
        jar.closeEntry();
    }

    private static void write(Path p, byte[] b) {
        try (OutputStream out = Files.newOutputStream(p)) {
            out.write(b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
