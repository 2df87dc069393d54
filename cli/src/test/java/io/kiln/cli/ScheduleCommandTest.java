package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.agent.testing.Fixtures;
import io.kiln.gateway.Gateway;
import io.kiln.gateway.GatewayConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kiln schedule add|ls|rm} against a real gateway in this JVM (process engine, fresh data
 * directory), as a user on its machine runs them: the URL set, the token found in the data
 * directory.
 */
class ScheduleCommandTest {

    private static Path work;
    private static Gateway gateway;
    private static final AtomicInteger HOMES = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        work = Fixtures.work().resolve("schedule-cli").toAbsolutePath();
        if (Files.exists(work)) {
            try (Stream<Path> s = Files.walk(work)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(work);
        GatewayConfig c = GatewayConfig.defaults(work.resolve("data")).withListen("127.0.0.1", 0);
        gateway = Gateway.start(c.withInvoker(c.invoker().withEngine("process").withMemoryBudgetMib(1024)));
        Path jar = Files.write(work.resolve("functions.jar"), Fixtures.functions());
        ok(cli().run("deploy", "echo", "--jar", jar.toString(), "--handler", "com.example.Echo"));
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.shutdown(Duration.ofSeconds(5));
        }
    }

    private static TestCli cli() {
        return new TestCli(work.resolve("home-" + HOMES.incrementAndGet())).env("KILN_URL", gateway.url())
                .env("KILN_DATA", work.resolve("data").toString());
    }

    private static TestCli.Result ok(TestCli.Result r) {
        assertEquals(Exit.OK, r.exit(), r.toString());
        return r;
    }

    @Test
    void addIsIdempotentLsListsAndRmDeletes() {
        String created = ok(cli().run("schedule", "add", "hourly", "--function", "echo", "--rate", "1h", "--input",
                "hi")).out();
        assertTrue(created.matches("Created schedule hourly: every 1h → echo; next fire time \\S+Z\n"), created);
        String next = created.substring(created.lastIndexOf(' ') + 1).strip();
        assertTrue(Instant.parse(next).isAfter(Instant.now().plus(Duration.ofMinutes(59))), next);
        assertEquals("Replaced schedule hourly: every 1h → echo; next fire time " + next + "\n",
                ok(cli().run("schedule", "add", "hourly", "--function", "echo", "--rate", "1h", "--input", "hi")).out(),
                "the same command again: the same schedule, the same next fire time");

        ok(cli().run("schedule", "add", "berlin", "--function", "echo", "--cron", "*/5 * * * *", "--zone",
                "Europe/Berlin", "--overlap", "allow", "--misfire", "skip", "--shape", "eventbridge"));
        String ls = ok(cli().run("schedule", "ls")).out();
        assertTrue(ls.startsWith("NAME "), ls);
        assertTrue(ls.lines().anyMatch(l -> l.matches("berlin +echo +cron \"\\*/5 \\* \\* \\* \\*\" in Europe/Berlin +\\S+Z"
                + " +allow +skip")), ls);
        assertTrue(ls.lines().anyMatch(l -> l.matches("hourly +echo +every 1h +" + next + " +skip +fire-once")), ls);

        JsonNode json = Json.parse(ok(cli().run("-o", "json", "schedule", "ls")).stdout());
        assertEquals("berlin", json.path("schedules").get(0).path("name").asText());
        assertEquals("eventbridge", json.path("schedules").get(0).path("shape").asText());
        assertEquals("aGk=", json.path("schedules").get(1).path("inputBase64").asText());

        assertEquals("Deleted schedule hourly\n", ok(cli().run("schedule", "rm", "hourly")).out());
        JsonNode rm = Json.parse(ok(cli().run("-o", "json", "schedule", "rm", "berlin")).stdout());
        assertEquals("berlin", rm.path("deleted").asText());
        TestCli.Result again = cli().run("schedule", "rm", "hourly");
        assertEquals(Exit.NOT_FOUND, again.exit(), again.toString());
        assertEquals("No schedule named 'hourly'. `kiln schedule ls` lists them.\n", again.stderr());
        assertEquals("No schedules. Add one with: kiln schedule add NAME --function F --cron EXPR --zone ZONE\n",
                ok(cli().run("schedule", "ls")).out());
    }

    @Test
    void refusalsSayWhy() {
        TestCli.Result noZone = cli().run("schedule", "add", "c", "--function", "echo", "--cron", "0 9 * * *");
        assertEquals(Exit.USAGE, noZone.exit(), noZone.toString());
        assertTrue(noZone.stderr().startsWith("--cron needs --zone, an IANA time zone such as Europe/Berlin or UTC;"
                + " none is ever implied\n"), noZone.stderr());
        TestCli.Result two = cli().run("schedule", "add", "c", "--function", "echo", "--rate", "5m", "--at", "x");
        assertEquals(Exit.USAGE, two.exit());
        assertTrue(two.stderr().startsWith("give exactly one of --cron (with --zone), --rate or --at; got --rate and"
                + " --at\n"), two.stderr());
        TestCli.Result nobody = cli().run("schedule", "add", "c", "--function", "nobody", "--rate", "5m");
        assertEquals(Exit.NOT_FOUND, nobody.exit(), nobody.toString());
        assertEquals("No function named 'nobody'. `kiln ls` lists what is deployed.\n", nobody.stderr());
        TestCli.Result zero = cli().run("schedule", "add", "c", "--function", "echo", "--rate", "0s");
        assertEquals(Exit.FAILED, zero.exit(), zero.toString());
        assertEquals("The server answered 400 (bad_request): rate: \"0s\" is zero; allowed: a whole number of at least"
                + " 1 followed by s, m, h or d, e.g. 30s, 5m, 1h, 2d.\n", zero.stderr());
    }
}
