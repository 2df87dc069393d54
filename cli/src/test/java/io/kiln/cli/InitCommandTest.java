package io.kiln.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kiln init} without a server (the projects are built and deployed by InitEndToEndIT),
 * and the usage errors of {@code kiln invoke --local}.
 */
class InitCommandTest {

    @TempDir
    Path home;

    private TestCli cli() {
        return new TestCli(home).env("KILN_URL", "http://127.0.0.1:" + CommandLineTest.closedPort());
    }

    private static void usage(TestCli.Result r, String message) {
        assertEquals(Exit.USAGE, r.exit(), r.toString());
        assertTrue(r.stderr().contains(message), r.toString());
    }

    @Test
    void eachTemplateWritesAProjectPinnedToTheGivenVersion() throws Exception {
        for (String t : new String[]{"handler", "http", "lambda"}) {
            String name = "orders-" + t;
            TestCli.Result r = cli().run("init", name, "--template", t, "--api-version", "9.8.7");
            assertEquals(Exit.OK, r.exit(), r.toString());
            String cls = "Orders" + Character.toUpperCase(t.charAt(0)) + t.substring(1);
            String handler = "com.example.orders" + t + "." + cls;
            assertTrue(r.out().startsWith("Created " + home.resolve(name) + " (" + t + " template, handler " + handler + ")\n"), r.out());
            Path dir = home.resolve(name);
            String pom = Files.readString(dir.resolve("pom.xml"));
            assertTrue(pom.contains("<kiln.version>9.8.7</kiln.version>"), pom);
            assertTrue(pom.contains("<artifactId>" + name + "</artifactId>"), pom);
            assertFalse(pom.contains("{{"), pom);
            assertEquals(t.equals("lambda"), pom.contains("aws-lambda-java-core"), pom);
            assertEquals(!t.equals("lambda"), pom.contains("<artifactId>kiln-function-api</artifactId>"), pom);
            String readme = Files.readString(dir.resolve("README.md"));
            assertTrue(readme.contains("\nkiln deploy " + name + " --project . --handler " + handler + "\n"), readme);
            String src = "com/example/orders" + t + "/" + cls;
            assertTrue(Files.readString(dir.resolve("src/main/java/" + src + ".java"))
                    .startsWith("package com.example.orders" + t + ";\n"));
            assertTrue(Files.readString(dir.resolve("src/test/java/" + src + "Test.java"))
                    .contains("class " + cls + "Test {"));
            assertEquals("target/\n", Files.readString(dir.resolve(".gitignore")));
        }
    }

    @Test
    void saysSoWhenTheFunctionKitIsNotInTheLocalRepository() throws Exception {
        TestCli.Result missing = cli().run("init", "kitless", "--api-version", "9.8.7");
        assertEquals(Exit.OK, missing.exit(), missing.toString());
        assertTrue(missing.stderr().contains("Note: io.kiln:kiln-function-api:9.8.7 is not in ~/.m2/repository, and "
                + "`mvn package` needs it. Install the function kit: ./run.sh"), missing.stderr());
        for (String a : new String[]{"kiln-function-api", "kiln-function-testkit"}) {
            Path dir = Files.createDirectories(home.resolve(".m2/repository/io/kiln/" + a + "/9.8.7"));
            Files.write(dir.resolve(a + "-9.8.7.jar"), new byte[]{1});
        }
        TestCli.Result present = cli().run("init", "kitful", "--api-version", "9.8.7");
        assertEquals(Exit.OK, present.exit(), present.toString());
        assertEquals("", present.stderr());
    }

    @Test
    void withoutAServerTheVersionMustBeGivenWhenTheCliDoesNotKnowItsOwn() {
        // Run from classes, the CLI has no jar manifest, hence no version of its own.
        usage(cli().run("init", "lonely"), "This CLI does not know its own version and no Kiln server answered at");
        assertFalse(Files.exists(home.resolve("lonely")));
    }

    @Test
    void packageAndClassNamesComeFromTheName() {
        assertEquals("OrdersApi", InitCommand.className("orders-api"));
        assertEquals("Fn2fa", InitCommand.className("2fa"));
        assertEquals("StringFunction", InitCommand.className("string"), "java.lang.String would hide String");
        assertEquals("ContextFunction", InitCommand.className("context"));
        assertEquals("com.example.ordersapi", InitCommand.defaultPackage("orders-api"));
        assertEquals("com.example.fn2fa", InitCommand.defaultPackage("2fa"));
        assertEquals("com.example.fnclass", InitCommand.defaultPackage("class"));
    }

    @Test
    void badInputIsAClearUsageError() throws Exception {
        usage(cli().run("init", "My_Fn", "--api-version", "1"), "'My_Fn' is not a function name");
        usage(cli().run("init", "x-", "--api-version", "1"), "'x-' is not a function name");
        usage(cli().run("init", "fn", "--template", "cron", "--api-version", "1"),
                "There is no template 'cron'. Templates: handler, http, lambda.");
        usage(cli().run("init", "fn", "--template", "batch", "--api-version", "1"),
                "There is no batch template yet: batch-record and scheduled handlers come with events");
        usage(cli().run("init", "fn", "--package", "com.Acme", "--api-version", "1"), "'com.Acme' is not a Java package name");
        usage(cli().run("init", "fn", "--package", "com.class.x", "--api-version", "1"), "'com.class.x' is not a Java package name");
        assertFalse(Files.exists(home.resolve("fn")), "nothing is written for bad input");

        Files.createDirectories(home.resolve("taken"));
        Files.writeString(home.resolve("taken/keep.txt"), "mine");
        TestCli.Result r = cli().run("init", "taken", "--api-version", "1");
        assertEquals(Exit.USAGE, r.exit(), r.toString());
        assertEquals(home.resolve("taken") + " already exists; kiln init writes only new directories. "
                + "Choose another name, or remove it first.\n", r.stderr());
        assertEquals("mine", Files.readString(home.resolve("taken/keep.txt")));
        try (var files = Files.list(home.resolve("taken"))) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void localInvokeUsageErrors() {
        usage(cli().run("invoke", "f", "--jar", "f.jar"), "--project, --jar, --handler and --env work only with --local");
        usage(cli().run("invoke", "f", "--local", "--jar", "f.jar"), "--local needs --handler CLASS");
        usage(cli().run("invoke", "f", "--local", "--handler", "a.B"), "--local needs one of --project DIR or --jar FILE");
        usage(cli().run("invoke", "f", "--local", "--handler", "a.B", "--jar", "f.jar", "--project", "."),
                "--local needs one of --project DIR or --jar FILE");
        usage(cli().run("invoke", "f", "--local", "--handler", "a.B", "--jar", "f.jar", "--async"),
                "--local calls are sync");
        usage(cli().run("invoke", "f", "--local", "--handler", "a.B", "--jar", "f.jar", "--env", "NOPE"),
                "--env takes K=V, got 'NOPE'");
    }
}
