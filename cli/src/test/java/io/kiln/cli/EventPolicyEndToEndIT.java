package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.agent.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The event policy through the CLI against the real gateway (process engine, its own data
 * directory): deploy's retry flags as describe shows them, a call that fails once with no retries
 * and so becomes a dead letter, {@code kiln dead-letters ls|redrive}, and
 * {@code invoke --idempotency-key} replays.
 */
class EventPolicyEndToEndIT {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    /** How long a queued call may take to end here: generous, and only a bound. */
    private static final Duration CALL_BOUND = Duration.ofSeconds(60);
    private static final String ID = "[0-9a-f]{16}";

    private static Path work;
    private static Path jar;
    private static GatewayProcess gateway;
    private static final AtomicInteger HOMES = new AtomicInteger();

    @BeforeAll
    static void startGateway() throws Exception {
        work = Fixtures.work().resolve("cli-events-" + ProcessHandle.current().pid());
        Files.createDirectories(work);
        jar = Files.write(work.resolve("functions.jar"), Fixtures.functions());
        gateway = GatewayProcess.start(work, "process", START_TIMEOUT);
    }

    @AfterAll
    static void stopGateway() throws Exception {
        if (gateway != null) {
            gateway.stop();
        }
    }

    private static TestCli cli() {
        return new TestCli(work.resolve("home-" + HOMES.incrementAndGet()))
                .env("KILN_URL", gateway.url).env("KILN_DATA", gateway.dataDir.toString());
    }

    private static TestCli.Result ok(TestCli.Result r) {
        assertEquals(Exit.OK, r.exit(), r.toString());
        return r;
    }

    private static String unique(String prefix) {
        return prefix + UUID.randomUUID().toString().substring(0, 8);
    }

    private static void deploy(String name, String handler, String... more) {
        List<String> args = new ArrayList<>(List.of("deploy", name, "--jar", jar.toString(), "--handler",
                "com.example." + handler));
        args.addAll(List.of(more));
        ok(cli().run(args.toArray(String[]::new)));
    }

    @Test
    void aCallWithNoRetriesIsDeadLetteredListedAndRedriven() throws Exception {
        String echo = unique("dl-echo-");
        deploy(echo, "Echo");
        String name = unique("dl-fails-");
        deploy(name, "Fails", "--max-retries", "0", "--retry-backoff", "250ms", "--max-retry-backoff", "2s",
                "--max-event-age", "1h", "--on-success", "function:" + echo);

        String describe = ok(cli().run("describe", name)).out();
        assertTrue(describe.contains("""
                  retries      0 (a failed event-driven call is dead-lettered at once)
                  event age    at most 1h
                  on-success   function:%s
                  on-failure   -
                """.formatted(echo)), describe);
        JsonNode events = Json.parse(ok(cli().run("describe", name, "-o", "json")).stdout()).path("config")
                .path("events");
        assertEquals(Json.parse("{\"maxRetries\":0,\"retryBackoffMs\":250,\"maxRetryBackoffMs\":2000,"
                + "\"maxEventAgeMs\":3600000,\"onSuccess\":\"function:" + echo + "\",\"onFailure\":null}"), events);

        assertEquals("No dead letters for " + name + ".\n", ok(cli().run("dead-letters", "ls", name)).out());

        TestCli.Result failed = cli().run("invoke", name, "--data", "throw:x", "--async", "--wait");
        assertEquals(Exit.FAILED, failed.exit(), failed.toString());
        assertEquals("", failed.out());
        String[] err = failed.stderr().split("\n");
        assertEquals(2, err.length, failed.stderr());
        assertTrue(err[0].matches("The call to " + name + " failed \\(function_error\\): x \\(retries are off\\)"
                + " \\[call " + ID + "]"), failed.stderr());
        String id = err[0].substring(err[0].length() - 17, err[0].length() - 1);
        assertEquals("It failed after 1 attempt and is a dead letter now: kiln dead-letters ls " + name, err[1]);

        String table = ok(cli().run("dead-letters", "ls", name)).out();
        String[] rows = table.split("\n");
        assertEquals(2, rows.length, table);
        assertTrue(rows[0].matches("CALL ID {11}FAILED +ATTEMPTS  ERROR +INPUT"), table);
        assertTrue(rows[1].matches(id + "  \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z +1 {9}"
                + "function_error: x \\(retries are off\\)  throw:x"), table);

        JsonNode all = Json.parse(ok(cli().run("dead-letters", "ls", name, "--limit", "5", "-o", "json")).stdout());
        assertEquals(name, all.path("function").asText());
        assertEquals(1, all.path("deadLetters").size(), all.toString());
        JsonNode letter = all.path("deadLetters").get(0);
        assertEquals(id, letter.path("callId").asText());
        assertEquals("failed", letter.path("state").asText());
        assertEquals("throw:x", new String(Base64.getDecoder().decode(letter.path("inputBase64").asText()),
                StandardCharsets.UTF_8));
        assertEquals(1, letter.path("attemptLog").size(), letter.toString());
        assertEquals("function_error", letter.path("attemptLog").get(0).path("error").path("code").asText());

        // Named: the one call goes back, fails its one fresh attempt, and is a dead letter again.
        assertEquals("Redrove 1 dead letter of " + name + ": back in the queue with fresh attempts.\n",
                ok(cli().run("dead-letters", "redrive", name, id)).out());
        awaitDeadLetter(name, id);
        // A call id that is not one of its dead letters: counted out.
        assertEquals("Redrove 1 dead letter of " + name + " (1 of the 2 calls named is not a dead letter of " + name
                + "): back in the queue with fresh attempts.\n",
                ok(cli().run("dead-letters", "redrive", name, id, "00000000000000ff")).out());
        awaitDeadLetter(name, id);
        // All, as JSON.
        assertEquals(Json.parse("{\"function\":\"" + name + "\",\"redriven\":1}"),
                Json.parse(ok(cli().run("dead-letters", "redrive", name, "-o", "json")).stdout()));
        awaitDeadLetter(name, id);

        TestCli.Result bad = cli().run("dead-letters", "redrive", name, "not-an-id");
        assertEquals(Exit.FAILED, bad.exit(), bad.toString());
        assertTrue(bad.stderr().startsWith("The server answered 400 (bad_request): "), bad.stderr());
    }

    /** Bounded wait until {@code id} is among {@code function}'s dead letters again, with no attempt running. */
    private static void awaitDeadLetter(String function, String id) throws InterruptedException {
        long deadline = System.nanoTime() + CALL_BOUND.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode all = Json.parse(ok(cli().run("dead-letters", "ls", function, "-o", "json")).stdout());
            for (JsonNode d : all.path("deadLetters")) {
                if (d.path("callId").asText().equals(id)) {
                    return;
                }
            }
            Thread.sleep(100);
        }
        fail("call " + id + " of " + function + " did not become a dead letter again within " + CALL_BOUND);
    }

    @Test
    void anIdempotencyKeyNamesTheFirstCall() {
        String name = unique("idem-");
        deploy(name, "Echo");
        String key = unique("order-");
        TestCli.Result first = ok(cli().run("invoke", name, "--data", "one", "--async", "--idempotency-key", key));
        String[] lines = first.out().split("\n");
        assertTrue(lines[0].matches("Queued call " + ID + " to " + name), first.out());
        String id = lines[0].substring("Queued call ".length(), "Queued call ".length() + 16);
        assertEquals("Status: " + gateway.url + "/v1/calls/" + id + "\n", first.out().substring(lines[0].length() + 1));

        // Waiting on a replay waits for the first call: its result, not the new body's.
        TestCli.Result waited = ok(cli().run("invoke", name, "--data", "two", "--wait", "--idempotency-key", key));
        assertEquals("one", waited.out());
        assertTrue(waited.stderr().matches("Not queued again: idempotency key '" + key + "' already named call " + id
                + " \\((queued|running|succeeded)\\); waiting for its result\n"), waited.stderr());

        assertEquals("Not queued again: idempotency key '" + key + "' already named call " + id + " (succeeded)\n"
                        + "Status: " + gateway.url + "/v1/calls/" + id + "\n",
                ok(cli().run("invoke", name, "--data", "three", "--async", "--idempotency-key", key)).out());
        JsonNode replay = Json.parse(ok(cli().run("invoke", name, "--data", "four", "--async", "--idempotency-key",
                key, "-o", "json")).stdout());
        assertEquals(Json.parse("{\"callId\":\"" + id + "\",\"status\":\"succeeded\",\"statusUrl\":\"" + gateway.url
                + "/v1/calls/" + id + "\",\"replayed\":true}"), replay);

        JsonNode fresh = Json.parse(ok(cli().run("invoke", name, "--data", "five", "--async", "--idempotency-key",
                unique("other-"), "-o", "json")).stdout());
        assertEquals(false, fresh.path("replayed").asBoolean(true), fresh.toString());
        assertTrue(!fresh.path("callId").asText().equals(id), fresh.toString());
    }
}
