package io.kiln.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The event-policy flags of {@code kiln deploy}, {@code --idempotency-key}, and how
 * {@code describe}, {@code dead-letters} and a failed {@code invoke --wait} print what the
 * server answers: no server needed.
 */
class EventsCliTest {

    @TempDir
    Path home;

    private TestCli cli() {
        return new TestCli(home).env("KILN_URL", "http://127.0.0.1:" + CommandLineTest.closedPort());
    }

    private String query(String... flags) {
        String[] args = new String[6 + flags.length];
        System.arraycopy(new String[]{"deploy", "f", "--jar", "f.jar", "--handler", "com.example.F"}, 0, args, 0, 6);
        System.arraycopy(flags, 0, args, 6, flags.length);
        CommandLine.ParseResult parsed = Kiln.commandLine(cli().cliEnv(System.in, System.out, System.err))
                .parseArgs(args);
        return ((DeployCommand) parsed.subcommand().commandSpec().userObject()).query();
    }

    private static void usage(TestCli.Result r, String message) {
        assertEquals(Exit.USAGE, r.exit(), r.toString());
        assertTrue(r.stderr().contains(message), r.toString());
    }

    @Test
    void deployEventFlagsBecomeTheQueryParameters() {
        assertEquals("handler=com.example.F&maxRetries=0&retryBackoff=500ms&maxRetryBackoff=2m&maxEventAge=1h"
                        + "&onSuccess=function%3Aaudit&onFailure=https%3A%2F%2Fhooks.example.com%2Fkiln%3Fa%3D1",
                query("--max-retries", "0", "--retry-backoff", "500ms", "--max-retry-backoff", "2m",
                        "--max-event-age", "1h", "--on-success", "function:audit",
                        "--on-failure", "https://hooks.example.com/kiln?a=1"));
        assertEquals("handler=com.example.F&maxRetries=5&maxEventAge=0", query("--max-retries", "5",
                "--max-event-age", "0"));
        assertEquals("handler=com.example.F&onFailure=http%3A%2F%2F127.0.0.1%3A9000%2Fx",
                query("--on-failure", " http://127.0.0.1:9000/x "));
    }

    @Test
    void badEventFlagsAreUsageErrors() {
        String[] d = {"deploy", "x", "--jar", "a", "--handler", "C"};
        usage(cli().run(concat(d, "--max-retries", "-1")), "--max-retries must be 0 or more, got -1");
        usage(cli().run(concat(d, "--max-retries", "many")), "--max-retries");
        usage(cli().run(concat(d, "--retry-backoff", "soon")), "--retry-backoff takes milliseconds or a duration");
        usage(cli().run(concat(d, "--max-retry-backoff", "1d")), "--max-retry-backoff takes milliseconds");
        usage(cli().run(concat(d, "--max-event-age", "-5s")), "--max-event-age takes milliseconds");
        usage(cli().run(concat(d, "--on-success", "audit")),
                "--on-success takes function:NAME or an http(s) URL, got 'audit'");
        usage(cli().run(concat(d, "--on-failure", "function:")), "--on-failure takes function:NAME");
        usage(cli().run(concat(d, "--on-failure", "ftp://x/y")), "--on-failure takes function:NAME");
        usage(cli().run("invoke", "x", "--idempotency-key", "k"),
                "--idempotency-key works only with --async (or --wait)");
        usage(cli().run("invoke", "x", "--async", "--idempotency-key", "has space"),
                "--idempotency-key takes 1 to 255 visible ASCII characters (no spaces), got 'has space'");
        usage(cli().run("invoke", "x", "--async", "--idempotency-key", "k".repeat(256)), "--idempotency-key takes");
        usage(cli().run("dead-letters", "ls", "f", "--limit", "0"), "--limit must be between 1 and 1000, got 0");
        usage(cli().run("dead-letters"), "dead-letters needs a subcommand: ls or redrive");
        usage(cli().run("dead-letters", "ls"), "Missing required parameter: 'FUNCTION'");
    }

    @Test
    void aGoodCommandLineGetsAsFarAsTheServer() {
        // Parsed, then the closed port: exit 3, not a usage error.
        assertEquals(Exit.UNREACHABLE, cli().run("dead-letters", "redrive", "f", "0123456789abcdef").exit());
        assertEquals(Exit.UNREACHABLE, cli().run("invoke", "f", "--async", "--idempotency-key", "order-42").exit());
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void describeShowsTheEventPolicy() {
        String fn = """
                {"name":"f","version":3,"handler":"com.example.F","url":"/function/f",
                 "config":{"memoryMib":256,"timeoutMs":30000,"env":{},"maxConcurrency":10,"minInstances":0,
                  "maxInstances":10,"keepAliveMs":300000,"public":false,
                  "events":{"maxRetries":%s,"retryBackoffMs":1000,"maxRetryBackoffMs":300000,"maxEventAgeMs":%s,
                            "onSuccess":%s,"onFailure":%s}},
                 "jar":{"sha256":"ab","size":2048},"createdAt":"2026-11-30T05:00:00Z","versions":[],"state":{}}""";
        String text = DescribeCommand.text(Json.parse(fn.formatted("2", "21600000", "null",
                "\"function:alerts\"")), "http://k");
        assertTrue(text.contains("""
                  env          (none)
                  retries      2, backoff 1s doubling up to 5m (with jitter)
                  event age    at most 6h
                  on-success   -
                  on-failure   function:alerts
                  now          0 live, 0 idle, 0 in flight, 0 queued
                """), text);
        text = DescribeCommand.text(Json.parse(fn.formatted("0", "0", "\"https://h.example/x\"", "null")), "http://k");
        assertTrue(text.contains("""
                  retries      0 (a failed event-driven call is dead-lettered at once)
                  event age    no limit
                  on-success   https://h.example/x
                  on-failure   -
                """), text);
        // A server from before the event policy: no such rows.
        String old = DescribeCommand.text(Json.parse("{\"name\":\"f\",\"config\":{}}"), "http://k");
        assertTrue(!old.contains("retries") && !old.contains("on-failure"), old);
    }

    @Test
    void deadLettersTableShowsErrorAndAPrintablePreviewOfTheInput() {
        String input = b64("line one\nline\ttwo " + "x".repeat(60));
        String all = """
                {"function":"f","deadLetters":[
                 {"callId":"0123456789abcdef","function":"f","state":"failed","attempts":3,
                  "finishedAt":"2026-11-30T05:01:02.345Z","error":{"code":"function_error","message":"boom"},
                  "inputBase64":"%s"},
                 {"callId":"00000000000000ff","function":"f","state":"failed","attempts":0,
                  "finishedAt":"2026-11-30T06:00:00Z","error":{"code":"expired","message":"older than 1h"},
                  "inputBase64":""},
                 {"callId":"0000000000000100","function":"f","state":"failed","attempts":1,
                  "finishedAt":"2026-11-30T06:00:01Z","error":{"code":"function_error","message":"m"},
                  "inputBase64":"%s"}]}""".formatted(input, b64bytes(new byte[]{(byte) 0xff, 0, 1}));
        assertEquals("""
                CALL ID           FAILED                    ATTEMPTS  ERROR                   INPUT
                0123456789abcdef  2026-11-30T05:01:02.345Z  3         function_error: boom    line one.line.two xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…
                00000000000000ff  2026-11-30T06:00:00Z      0         expired: older than 1h  (empty)
                0000000000000100  2026-11-30T06:00:01Z      1         function_error: m       (binary, 3 B)
                """,
                DeadLettersCommand.table("f", Json.parse(all)));
        assertEquals("No dead letters for f.\n", DeadLettersCommand.table("f", Json.parse("{\"deadLetters\":[]}")));
        assertEquals("x".repeat(60), DeadLettersCommand.preview("x".repeat(60).getBytes(StandardCharsets.UTF_8)));
        assertEquals("é".repeat(60) + "…", DeadLettersCommand.preview("é".repeat(61).getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void redriveSaysHowManyWentBack() {
        assertEquals("Redrove 2 dead letters of f: back in the queue with fresh attempts.",
                DeadLettersCommand.redriven("f", 2, 0));
        assertEquals("Redrove 0 dead letters of f.", DeadLettersCommand.redriven("f", 0, 0));
        assertEquals("Redrove 1 dead letter of f (1 of the 2 calls named is not a dead letter of f): back in the "
                + "queue with fresh attempts.", DeadLettersCommand.redriven("f", 1, 2));
    }

    @Test
    void aFailedAsyncCallSaysItsErrorAndAttempts() {
        assertEquals("The call to f failed (function_error): java.lang.IllegalArgumentException: x"
                        + " [call 0123456789abcdef]\n"
                        + "It failed after 3 attempts and is a dead letter now: kiln dead-letters ls f",
                InvokeCommand.asyncFailure("f", Json.parse("""
                        {"callId":"0123456789abcdef","state":"failed","attempts":3,
                         "error":{"code":"function_error","message":"java.lang.IllegalArgumentException: x",
                                  "callId":"0123456789abcdef"}}""")));
        assertEquals("The call 0123456789abcdef to f was cancelled after 1 attempt.",
                InvokeCommand.asyncFailure("f", Json.parse("""
                        {"callId":"0123456789abcdef","state":"cancelled","attempts":1}""")));
    }

    @Test
    void verboseWaitSaysWhyACallIsRetrying() {
        assertEquals("< call 0123456789abcdef retrying: attempt 1 failed (function_error: boom); next attempt at "
                        + "2026-11-30T05:00:01Z",
                InvokeCommand.stateLine("0123456789abcdef", Json.parse("""
                        {"state":"retrying","attempts":1,"nextAttemptAt":"2026-11-30T05:00:01Z",
                         "error":{"code":"function_error","message":"boom"}}""")));
        assertEquals("< call 0123456789abcdef running",
                InvokeCommand.stateLine("0123456789abcdef", Json.parse("{\"state\":\"running\",\"attempts\":2}")));
    }

    private static String b64(String s) {
        return b64bytes(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String b64bytes(byte[] b) {
        return java.util.Base64.getEncoder().encodeToString(b);
    }
}
