package io.kiln.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing, usage errors, help, completion, and what needs no server at all. */
class CommandLineTest {

    @TempDir
    Path home;

    private TestCli cli() {
        // A port nothing listens on: a command that gets past parsing fails with exit 3, not a hang.
        return new TestCli(home).env("KILN_URL", "http://127.0.0.1:" + closedPort());
    }

    static int closedPort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void usage(TestCli.Result r, String message) {
        assertEquals(Exit.USAGE, r.exit(), r.toString());
        assertTrue(r.stderr().contains(message), r.toString());
        assertTrue(r.stderr().contains("--help' for more"), r.toString());
    }

    @Test
    void everyCommandHasHelpWithExamplesAndExitCodes() {
        CommandLine cl = Kiln.commandLine(cli().cliEnv(System.in, System.out, System.err));
        for (String name : cl.getSubcommands().keySet()) {
            if (name.equals("help") || name.equals("list") || name.equals("delete")) {
                continue;
            }
            TestCli.Result r = cli().run(name, "--help");
            assertEquals(0, r.exit(), name);
            assertTrue(r.out().contains("Examples:"), name + ": " + r.out());
            if (!name.equals("completion")) {
                assertTrue(r.out().contains("5   no such function"), name + ": " + r.out());
            }
        }
        TestCli.Result top = cli().run("--help");
        assertTrue(top.out().contains("Examples:") && top.out().contains("Exit codes:"), top.out());
        assertEquals(0, cli().run("help", "deploy").exit());
        assertTrue(cli().run("--version").out().startsWith("kiln "));
    }

    @Test
    void noCommandPrintsTheUsage() {
        TestCli.Result r = cli().run();
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("Commands:"), r.out());
    }

    @Test
    void usageErrorsExitWith2() {
        usage(cli().run("deploy", "x", "--jar", "a.jar"), "Missing required option: '--handler=CLASS'");
        usage(cli().run("deploy", "x", "--handler", "C"), "--jar=FILE");
        usage(cli().run("deploy", "x", "--jar", "a", "--project", "b", "--handler", "C"), "mutually exclusive");
        usage(cli().run("deploy", "x", "--jar", "a", "--handler", "C", "--env", "NOEQUALS"), "--env takes NAME=value");
        usage(cli().run("deploy", "x", "--jar", "a", "--handler", "C", "--timeout", "ten"), "like 500ms, 30s");
        usage(cli().run("deploy", "x", "--jar", "a", "--handler", "C", "--memory", "lots"), "--memory");
        usage(cli().run("deploy", "x", "--jar", "a", "--handler", "C", "--max", "0"), "--max must be 1 or more");
        usage(cli().run("invoke", "x", "--data", "a", "--file", "b"), "mutually exclusive");
        usage(cli().run("invoke", "x", "--async", "--path", "/a"), "--path works only for sync calls");
        usage(cli().run("invoke", "x", "--wait", "--method", "GET"), "--async calls are POST");
        usage(cli().run("invoke", "x", "-H", "no colon"), "-H takes 'Name: value'");
        usage(cli().run("invoke", "x", "-H", "Host: evil"), "-H 'Host: evil'");
        usage(cli().run("logs", "x", "--limit", "0"), "--limit takes 1 to 2000");
        usage(cli().run("ls", "--output", "yaml"), "--output");
        usage(cli().run("completion", "fish"), "bash and zsh");
        usage(cli().run("deplo"), "Did you mean: kiln deploy");
        usage(cli().run("login", "--token", "a", "--token-file", "b"), "not both");
    }

    @Test
    void aMissingFileIsAUsageErrorBeforeAnyRequest() {
        TestCli.Result deploy = cli().run("deploy", "x", "--jar", "nope.jar", "--handler", "C");
        assertEquals(Exit.USAGE, deploy.exit(), deploy.toString());
        assertTrue(deploy.stderr().contains("There is no file " + home.resolve("nope.jar")), deploy.toString());
        TestCli.Result invoke = cli().run("invoke", "x", "--file", "nope.bin");
        assertEquals(Exit.USAGE, invoke.exit(), invoke.toString());
        TestCli.Result project = cli().run("deploy", "x", "--project", ".", "--handler", "C");
        assertEquals(Exit.USAGE, project.exit(), project.toString());
        assertTrue(project.stderr().contains("There is no pom.xml in"), project.toString());
    }

    @Test
    void connectionRefusedSaysHowToStartTheServer() throws Exception {
        int port = closedPort();
        Path jar = Files.write(home.resolve("f.jar"), new byte[]{1, 2, 3});
        for (List<String> args : List.of(List.of("ls"), List.of("describe", "x"), List.of("invoke", "x", "-d", "1"),
                List.of("invoke", "x", "--async"), List.of("logs", "x"), List.of("logs", "x", "-f"),
                List.of("rm", "x"), List.of("info"), List.of("deploy", "x", "--jar", jar.toString(), "--handler", "C"),
                List.of("login", "--token", "t"))) {
            TestCli.Result r = new TestCli(home).env("KILN_URL", "http://127.0.0.1:" + port).run(args.toArray(String[]::new));
            assertEquals(Exit.UNREACHABLE, r.exit(), args + ": " + r);
            assertEquals("Cannot reach the Kiln server at http://127.0.0.1:" + port
                    + " — is it running? Start it with ./run.sh\n", r.stderr().replace("Uploading f.jar (3 B)\n", ""),
                    args.toString());
        }
    }

    @Test
    void anUnresolvableHostIsUnreachableToo() {
        TestCli.Result r = new TestCli(home).run("--url", "http://no-such-host.invalid:8080", "ls");
        assertEquals(Exit.UNREACHABLE, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("Cannot reach the Kiln server at http://no-such-host.invalid:8080"), r.stderr());
    }

    @Test
    void aBadUrlIsAUsageError() {
        TestCli.Result r = new TestCli(home).run("--url", "localhost:8080", "ls");
        assertEquals(Exit.USAGE, r.exit(), r.toString());
        assertTrue(r.stderr().contains("is not an http:// or https:// URL"), r.stderr());
    }

    @Test
    void deployConfigurationBecomesTheQuery() {
        CommandLine cl = Kiln.commandLine(cli().cliEnv(System.in, System.out, System.err));
        CommandLine.ParseResult parsed = cl.parseArgs("deploy", "hello", "--jar", "h.jar", "--handler", "com.example.H",
                "--memory", "512", "--timeout", "30s", "--keep-alive", "5m", "--env", "A=1", "--env", "B=x y&z=",
                "--min", "1", "--max", "4", "--concurrency", "2", "--public");
        DeployCommand deploy = (DeployCommand) parsed.subcommand().commandSpec().userObject();
        assertEquals("handler=com.example.H&memory=512&timeout=30s&keepAlive=5m&env=A%3D1&env=B%3Dx+y%26z%3D"
                + "&maxConcurrency=2&minInstances=1&maxInstances=4&public=true", deploy.query());

        parsed = Kiln.commandLine(cli().cliEnv(System.in, System.out, System.err))
                .parseArgs("deploy", "hello", "--jar", "h.jar", "--handler", "com.example.H");
        assertEquals("handler=com.example.H", ((DeployCommand) parsed.subcommand().commandSpec().userObject()).query());
    }

    @Test
    void invokePathsGoBelowTheFunction() {
        InvokeCommand c = new InvokeCommand();
        assertEquals("", c.subPath());
        c.path = "items/1";
        assertEquals("/items/1", c.subPath());
        c.path = "/items/1?x=2";
        assertEquals("/items/1?x=2", c.subPath());
        c.path = "?x=2";
        assertEquals("?x=2", c.subPath());
    }

    @Test
    void globalOptionsWorkBeforeAndAfterTheCommand() {
        for (String[] args : List.of(new String[]{"--output", "json", "--url", "http://127.0.0.1:1", "ls"},
                new String[]{"ls", "-o", "JSON", "--url", "http://127.0.0.1:1"})) {
            TestCli.Result r = new TestCli(home).run(args);
            assertEquals(Exit.UNREACHABLE, r.exit(), r.toString());
            assertTrue(r.stderr().contains("http://127.0.0.1:1"), r.toString());
        }
    }

    @Test
    void bashCompletion() {
        TestCli.Result r = cli().run("completion", "bash");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().contains("complete -F _complete_kiln"), r.out().substring(0, 300));
        assertTrue(r.out().contains("deploy") && r.out().contains("--handler"));
    }
}
