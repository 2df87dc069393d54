package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.agent.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The CLI as a user runs it, against the real gateway: {@code io.kiln.gateway.Main} started as a
 * child process on the process engine (real agent processes, no VM: seconds, not minutes), with
 * a fresh data directory. Commands run in this JVM through {@link Kiln#run} with their own home
 * directory, environment and captured streams, and a few through {@code bin/kiln} as a real
 * process. User jars come from the agent's test fixtures.
 *
 * <p>Like a user of {@code ./run.sh}, most commands find the token in the gateway's data
 * directory ({@code KILN_DATA}); none logs in unless the test is about login.
 */
class CliEndToEndIT {

    private static final String HANDLERS = "com.example.";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private static Path work;
    private static Path dataDir;
    private static Path jar;
    private static GatewayProcess gateway;
    private static String url;
    private static String token;
    private static final AtomicInteger HOMES = new AtomicInteger();

    @BeforeAll
    static void startGateway() throws Exception {
        work = Fixtures.work().resolve("cli-e2e-" + ProcessHandle.current().pid());
        deleteTree(work);
        Files.createDirectories(work);
        jar = Files.write(work.resolve("functions.jar"), Fixtures.functions());

        gateway = GatewayProcess.start(work, "process", START_TIMEOUT);
        url = gateway.url;
        dataDir = gateway.dataDir;
        token = gateway.token;
    }

    @AfterAll
    static void stopGateway() throws Exception {
        if (gateway != null) {
            gateway.stop();
        }
    }

    /** A user on this machine after ./run.sh: KILN_URL for the test's port, the token from the data directory. */
    private static TestCli cli() {
        return new TestCli(work.resolve("home-" + HOMES.incrementAndGet()))
                .env("KILN_URL", url).env("KILN_DATA", dataDir.toString());
    }

    /** A user with nothing configured but the URL: no token anywhere. */
    private static TestCli stranger() {
        return new TestCli(work.resolve("home-" + HOMES.incrementAndGet())).env("KILN_URL", url)
                .env("KILN_DATA", work.resolve("no-such-data").toString());
    }

    private static TestCli.Result ok(TestCli.Result r) {
        assertEquals(Exit.OK, r.exit(), r.toString());
        return r;
    }

    private static void deploy(String name, String handler, String... more) {
        List<String> args = new ArrayList<>(List.of("deploy", name, "--jar", jar.toString(), "--handler",
                HANDLERS + handler));
        args.addAll(List.of(more));
        ok(cli().run(args.toArray(String[]::new)));
    }

    private static String unique(String prefix) {
        return prefix + UUID.randomUUID().toString().substring(0, 8);
    }

    // ---- deploy, ls, describe, rm -------------------------------------------------------

    @Test
    void deployShowsItsProgressThenLsAndDescribeShowTheFunction() {
        TestCli.Result first = ok(cli().run("deploy", "greeter", "--jar", jar.toString(), "--handler",
                "com.example.Greeter", "--env", "GREETING=hi", "--memory", "128", "--timeout", "10s",
                "--keep-alive", "1m", "--max", "3"));
        String progress = first.stderr();
        assertTrue(progress.startsWith("Uploading functions.jar ("), progress);
        assertTrue(progress.contains("\n  receiving the jar\n"), progress);
        assertTrue(progress.contains("\n  stored jar sha256:"), progress);
        assertTrue(progress.contains("of greeter is ready ("), progress);
        assertFalse(progress.contains("\r"), "no bar when stderr is not a terminal");
        String summary = first.out();
        assertTrue(summary.matches("(?s)Deployed greeter version \\d+ — call it: kiln invoke greeter\n.*"), summary);
        assertTrue(summary.contains("curl -H \"Authorization: Bearer $(cat " + dataDir.resolve("token") + ")\" -d '...' "
                + url + "/function/greeter"), summary);

        String ls = ok(cli().run("ls")).out();
        assertTrue(ls.startsWith("NAME "), ls);
        assertTrue(ls.lines().anyMatch(l -> l.matches("greeter +\\d+ +com\\.example\\.Greeter +128 MiB +\\d+ +\\d+")), ls);

        String describe = ok(cli().run("describe", "greeter")).out();
        assertTrue(describe.startsWith("greeter  version "), describe);
        assertTrue(describe.contains("  handler      com.example.Greeter\n"), describe);
        assertTrue(describe.contains("  url          " + url + "/function/greeter  (needs the token)\n"), describe);
        assertTrue(describe.contains("  memory       128 MiB\n"), describe);
        assertTrue(describe.contains("  timeout      10s\n"), describe);
        assertTrue(describe.contains("  keep-alive   1m\n"), describe);
        assertTrue(describe.contains("  env          GREETING=***\n"), describe);
        assertTrue(ok(cli().run("describe", "greeter", "--show-env")).out().contains("  env          GREETING=hi\n"));
        assertTrue(describe.contains("  instances    min 0, max 3\n"), describe);

        JsonNode json = Json.parse(ok(cli().run("describe", "greeter", "-o", "json")).stdout());
        assertEquals("com.example.Greeter", json.get("handler").asText());
        assertEquals(128, json.get("config").get("memoryMib").asInt());
        JsonNode all = Json.parse(ok(cli().run("--output", "json", "ls")).stdout());
        assertTrue(all.get("functions").findValuesAsText("name").contains("greeter"), all.toString());
    }

    @Test
    void redeployMakesANewVersionAndJsonOutputIsTheFunction() {
        String name = unique("twice-");
        deploy(name, "Echo");
        TestCli.Result again = ok(cli().run("deploy", name, "--jar", jar.toString(), "--handler", "com.example.Echo",
                "-o", "json"));
        JsonNode fn = Json.parse(again.stdout());
        assertNotNull(fn, again.toString());
        assertEquals(2, fn.get("version").asInt());
        assertEquals(2, fn.get("versions").size());
        assertTrue(again.stderr().contains("version 2 of " + name + " is ready"), again.stderr());
    }

    @Test
    void rmDeletesAndThenTheFunctionIsGone() {
        String name = unique("doomed-");
        deploy(name, "Echo");
        assertEquals("Deleted " + name + "\n", ok(cli().run("rm", name)).out());
        TestCli.Result gone = cli().run("describe", name);
        assertEquals(Exit.NOT_FOUND, gone.exit(), gone.toString());
        TestCli.Result again = cli().run("rm", name);
        assertEquals(Exit.NOT_FOUND, again.exit(), again.toString());
        assertFalse(ok(cli().run("ls")).out().contains(name));
    }

    // ---- invoke ---------------------------------------------------------------------------

    @Test
    void invokeWithDataFileStdinAndNothing() throws Exception {
        String name = unique("echo-");
        deploy(name, "Echo");

        assertEquals("hello, kiln", ok(cli().run("invoke", name, "--data", "hello, kiln")).out());

        byte[] bytes = new byte[200_000];
        new Random(7).nextBytes(bytes);
        Path file = Files.write(work.resolve("random.bin"), bytes);
        assertArrayEquals(bytes, ok(cli().run("invoke", name, "--file", file.toString())).stdout(),
                "a binary body comes back byte for byte");

        byte[] piped = "piped\u0000bytes\n".getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(piped, ok(cli().stdin(piped).run("invoke", name)).stdout());

        TestCli terminal = cli().stdin("never read").ttys(true, false, false);
        assertArrayEquals(new byte[0], ok(terminal.run("invoke", name)).stdout(), "stdin on a terminal is not read");
    }

    @Test
    void invokeJsonInAndOutAndVerboseHeaders() {
        String name = unique("greeter-");
        deploy(name, "Greeter");
        TestCli.Result r = ok(cli().run("invoke", name, "-d", "{\"name\":\"Ada\",\"age\":36}", "-v"));
        assertEquals("{\"message\":\"Hello, Ada\",\"adult\":true}", r.out());
        assertTrue(r.stderr().contains("> POST " + url + "/function/" + name + "\n"), r.stderr());
        assertTrue(r.stderr().matches("(?s).*< 200  call [0-9a-f]{16}  (cold|warm) start\n.*"), r.stderr());
        assertTrue(r.stderr().toLowerCase().contains("< server-timing: queue;dur="), r.stderr());

        JsonNode json = Json.parse(ok(cli().run("invoke", name, "-d", "{\"name\":\"Bo\",\"age\":3}", "-o", "json"))
                .stdout());
        assertEquals(200, json.get("status").asInt());
        assertEquals("{\"message\":\"Hello, Bo\",\"adult\":false}", json.get("body").asText());
        assertTrue(json.get("callId").asText().matches("[0-9a-f]{16}"), json.toString());
        assertEquals("application/json", json.get("headers").get("content-type").asText());
    }

    @Test
    void invokeThatTheFunctionFailsExits1WithTheReason() {
        String name = unique("greeter-");
        deploy(name, "Greeter");
        TestCli.Result r = cli().run("invoke", name, "--data", "not json");
        assertEquals(Exit.FAILED, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("The call to " + name + " failed (bad_input, HTTP 400): input does not bind"),
                r.stderr());
        assertTrue(r.stderr().matches("(?s).*\\[call [0-9a-f]{16}]\n"), r.stderr());
    }

    @Test
    void asyncPrintsTheCallAndWaitPrintsTheResult() {
        String name = unique("greeter-");
        deploy(name, "Greeter");
        TestCli.Result queued = ok(cli().run("invoke", name, "-d", "{\"name\":\"Async\",\"age\":20}", "--async"));
        String[] lines = queued.out().split("\n");
        assertTrue(lines[0].matches("Queued call [0-9a-f]{16} to " + name), queued.out());
        String id = lines[0].substring("Queued call ".length(), "Queued call ".length() + 16);
        assertEquals("Status: " + url + "/v1/calls/" + id, lines[1]);

        JsonNode accepted = Json.parse(ok(cli().run("invoke", name, "-d", "{\"name\":\"J\",\"age\":1}", "--async",
                "-o", "json")).stdout());
        assertTrue(accepted.get("callId").asText().matches("[0-9a-f]{16}"), accepted.toString());
        assertEquals(url + "/v1/calls/" + accepted.get("callId").asText(), accepted.get("statusUrl").asText());

        TestCli.Result waited = ok(cli().run("invoke", name, "-d", "{\"name\":\"Waited\",\"age\":50}", "--async",
                "--wait", "-v"));
        assertEquals("{\"message\":\"Hello, Waited\",\"adult\":true}", waited.out());
        assertTrue(waited.stderr().matches("(?s).*< 202  call [0-9a-f]{16} queued; waiting for its result\n.*"),
                waited.stderr());
        assertTrue(waited.stderr().contains(" succeeded\n"), waited.stderr());

        TestCli.Result failed = cli().run("invoke", name, "-d", "[1,2]", "--wait");
        assertEquals(Exit.FAILED, failed.exit(), failed.toString());
        assertTrue(failed.stderr().startsWith("The call to " + name + " failed (bad_input): "), failed.stderr());
    }

    @Test
    void aPublicFunctionNeedsNoToken() {
        String name = unique("open-");
        deploy(name, "Echo", "--public");
        assertEquals("no token", ok(stranger().run("invoke", name, "-d", "no token")).out());
        TestCli.Result manage = stranger().run("describe", name);
        assertEquals(Exit.AUTH, manage.exit(), "managing it still needs the token: " + manage);
    }

    // ---- logs -----------------------------------------------------------------------------

    @Test
    void logsShowWhatAFunctionPrintedWithItsCallId() {
        String name = unique("chatty-");
        deploy(name, "Greeter");
        String who = unique("Logger");
        JsonNode call = Json.parse(ok(cli().run("invoke", name, "-d", "{\"name\":\"" + who + "\",\"age\":9}",
                "-o", "json")).stdout());
        String callId = call.get("callId").asText();
        String logs = ok(cli().run("logs", name)).out();
        assertTrue(logs.lines().anyMatch(l -> l.matches("\\S+Z  " + callId + "  stdout  greeting " + who)), logs);

        JsonNode json = Json.parse(ok(cli().run("logs", name, "-o", "json", "--limit", "1")).stdout());
        assertEquals(1, json.get("lines").size(), json.toString());
    }

    @Test
    void logsFollowPrintsNewLinesUntilStopped() throws Exception {
        String name = unique("followed-");
        deploy(name, "Greeter");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        AtomicReference<TestCli.Result> result = new AtomicReference<>();
        TestCli follower = cli();
        Thread t = new Thread(() -> result.set(follower.runWith(out, err, "logs", name, "-f")), "logs-f");
        t.start();
        String who = unique("Followed");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        // Calls until the follower has seen one: the first may land before its stream is open (then it is
        // among the recent lines the stream starts with, which is fine too).
        while (!out.toString(StandardCharsets.UTF_8).contains("greeting " + who)) {
            ok(cli().run("invoke", name, "-d", "{\"name\":\"" + who + "\",\"age\":1}"));
            assertTrue(System.nanoTime() < deadline, "the follower never printed the line: " + out + err);
            Thread.sleep(300);
        }
        assertTrue(t.isAlive(), "-f keeps following");
        t.interrupt(); // what Ctrl-C is to a user
        t.join(10_000);
        assertFalse(t.isAlive(), "the follower stops when interrupted");
        assertEquals(Exit.OK, result.get().exit(), result.get().toString());
        assertTrue(out.toString(StandardCharsets.UTF_8).lines()
                .anyMatch(l -> l.matches("\\S+Z  [0-9a-f]{16}  stdout  greeting " + who)), out.toString());
    }

    // ---- info, login ----------------------------------------------------------------------

    @Test
    void infoNamesTheEngineAndSaysItIsNotIsolated() {
        String info = ok(cli().run("info")).out();
        assertTrue(info.startsWith("server     " + url + "  (ok; url from KILN_URL)\n"), info);
        assertTrue(info.contains("token      from " + dataDir.resolve("token") + "\n"), info);
        assertTrue(info.contains("engine     process — NOT isolated"), info);
        assertTrue(info.contains("           why: "), info);
        assertTrue(info.matches("(?s).*\nkvm        [A-Z_]+.*"), info);
        assertTrue(info.matches("(?s).*\npool       \\d+ live instances?, .*MiB\n.*"), info);
        JsonNode json = Json.parse(ok(cli().run("info", "-o", "json")).stdout());
        assertEquals("process", json.get("engine").get("name").asText());
        assertFalse(json.get("engine").get("isolated").asBoolean());
    }

    @Test
    void loginChecksTheTokenAndSavesIt() throws Exception {
        TestCli user = stranger();
        TestCli.Result refused = user.run("login", "--token", "not-the-token");
        assertEquals(Exit.AUTH, refused.exit(), refused.toString());
        Path config = user.home.resolve(".config/kiln/config");
        assertFalse(Files.exists(config), "a refused token is not saved");

        TestCli.Result in = ok(user.stdin(token + "\n").run("login"));
        assertEquals("Logged in to " + url + ". Saved the URL and token in " + config + ".\n", in.out());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(config)));
        assertTrue(Files.readString(config).contains("token=" + token + "\n"));

        // Later commands need neither KILN_URL nor KILN_TOKEN.
        TestCli later = new TestCli(user.home).env("KILN_DATA", work.resolve("no-such-data").toString());
        TestCli.Result info = ok(later.run("info"));
        assertTrue(info.out().contains("url from " + config), info.out());
        assertTrue(info.out().contains("token      from " + config), info.out());
        ok(later.run("ls"));

        TestCli fromFile = stranger();
        Path tokenFile = Files.writeString(work.resolve("token-copy"), token + "\n");
        ok(fromFile.run("login", "--token-file", tokenFile.toString()));
        ok(new TestCli(fromFile.home).run("--url", url, "ls"));
    }

    // ---- the errors a user meets ----------------------------------------------------------

    @Test
    void connectionRefused() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        TestCli.Result r = cli().run("--url", "http://127.0.0.1:" + closed, "ls");
        assertEquals(Exit.UNREACHABLE, r.exit(), r.toString());
        assertEquals("Cannot reach the Kiln server at http://127.0.0.1:" + closed
                + " — is it running? Start it with ./run.sh\n", r.stderr());
    }

    @Test
    void badToken() {
        String message = "The server refused the token (401). Run `kiln login` or set KILN_TOKEN.\n";
        for (String[] args : List.of(new String[]{"ls"}, new String[]{"describe", "greeter"},
                new String[]{"invoke", "greeter", "-d", "{}"}, new String[]{"invoke", "greeter", "--async"},
                new String[]{"logs", "greeter"}, new String[]{"logs", "greeter", "-f"}, new String[]{"rm", "greeter"},
                new String[]{"deploy", "x", "--jar", jar.toString(), "--handler", "com.example.Echo"})) {
            TestCli.Result r = cli().env("KILN_TOKEN", "wrong-token").run(args);
            assertEquals(Exit.AUTH, r.exit(), List.of(args) + ": " + r);
            assertTrue(r.stderr().endsWith(message), List.of(args) + ": " + r.stderr());
        }
        TestCli.Result none = stranger().run("ls");
        assertEquals(Exit.AUTH, none.exit(), none.toString());
        assertEquals("The server needs a token (401) and none is set. Run `kiln login` or set KILN_TOKEN.\n",
                none.stderr());
    }

    @Test
    void unknownFunction() {
        String message = "No function named 'nope'. `kiln ls` lists what is deployed.\n";
        for (String[] args : List.of(new String[]{"describe", "nope"}, new String[]{"invoke", "nope"},
                new String[]{"invoke", "nope", "--async"}, new String[]{"logs", "nope"},
                new String[]{"logs", "nope", "-f"}, new String[]{"rm", "nope"})) {
            TestCli.Result r = cli().run(args);
            assertEquals(Exit.NOT_FOUND, r.exit(), List.of(args) + ": " + r);
            assertEquals(message, r.stderr(), List.of(args).toString());
        }
    }

    @Test
    void deployFailureShowsTheFunctionsInitOutput() {
        TestCli.Result r = cli().run("deploy", "bad", "--jar", jar.toString(), "--handler", "com.example.BadStatic");
        assertEquals(Exit.DEPLOY_FAILED, r.exit(), r.toString());
        String err = r.stderr();
        assertTrue(err.contains("\nDeploy of 'bad' failed (init_failed): "), err);
        assertTrue(err.contains("no config"), err);
        assertTrue(err.contains("\n\nThe function's output during init:\n  | loading config\n"), err);
        assertEquals("", r.out());
        assertEquals(Exit.NOT_FOUND, cli().run("describe", "bad").exit(), "a failed first deploy stores nothing");

        TestCli.Result refused = cli().run("deploy", "bad", "--jar", jar.toString(), "--handler", "com.example.Nope");
        assertEquals(Exit.DEPLOY_FAILED, refused.exit(), refused.toString());
        assertTrue(refused.stderr().contains("Deploy of 'bad' failed ("), refused.stderr());
    }

    // ---- bin/kiln, a real process ---------------------------------------------------------

    @Test
    void binKilnRunsTheBuiltJarAlsoThroughASymlink() throws Exception {
        Path repo = Path.of(System.getProperty("kiln.repo")).toRealPath();
        Path link = Files.createDirectories(work.resolve("bin")).resolve("kiln");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, repo.resolve("bin/kiln"));
        Map<String, String> env = Map.of("KILN_URL", url, "KILN_DATA", dataDir.toString(),
                "HOME", work.resolve("home-process").toString());
        String name = unique("proc-");

        KilnProcess deploy = KilnProcess.run(work, null, env, null, link.toString(), "deploy", name, "--jar", jar.toString(), "--handler",
                "com.example.Echo");
        assertEquals(0, deploy.exit(), deploy.toString());
        assertTrue(deploy.err().contains("  receiving the jar\n"), deploy.toString());
        assertTrue(deploy.out().startsWith("Deployed " + name + " version 1"), deploy.toString());

        KilnProcess data = KilnProcess.run(work, null, env, null, repo.resolve("bin/kiln").toString(), "invoke", name, "--data", "from a process");
        assertEquals(0, data.exit(), data.toString());
        assertEquals("from a process", data.out());

        KilnProcess stdin = KilnProcess.run(work, null, env, "through a pipe".getBytes(StandardCharsets.UTF_8), link.toString(), "invoke", name);
        assertEquals("through a pipe", stdin.out(), stdin.toString());

        KilnProcess missing = KilnProcess.run(work, null, env, null, link.toString(), "invoke", "nope");
        assertEquals(Exit.NOT_FOUND, missing.exit(), missing.toString());
        assertEquals("No function named 'nope'. `kiln ls` lists what is deployed.\n", missing.err());

        KilnProcess usage = KilnProcess.run(work, null, env, null, link.toString(), "invoke");
        assertEquals(Exit.USAGE, usage.exit(), usage.toString());
    }

    @Test
    void deployProjectBuildsTheExampleWithMaven() {
        Path hello = Path.of(System.getProperty("kiln.repo")).resolve("examples/hello").normalize();
        TestCli.Result r = cli().run("deploy", "hello-project", "--project", hello.toString(), "--handler",
                "com.example.hello.Hello");
        assertEquals(Exit.OK, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("Building " + hello + ": mvn -q -B -DskipTests -f "), r.stderr());
        assertTrue(r.stderr().contains("Uploading hello.jar ("), r.stderr());
        assertEquals("Hello, Ada!", ok(cli().run("invoke", "hello-project", "--data", "Ada")).out());
    }

    // ---- helpers --------------------------------------------------------------------------

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
