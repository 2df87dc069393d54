package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.agent.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kiln jobs} as a user runs it, against a real gateway on the process engine: submit a
 * CSV and a JSON Lines file and watch them, list jobs, download results and failures, redrive,
 * cancel.
 */
class JobsCliIT {

    private static Path work;
    private static GatewayProcess gateway;
    private static final AtomicInteger HOMES = new AtomicInteger();

    @BeforeAll
    static void startGateway() throws Exception {
        work = Fixtures.work().resolve("cli-jobs-" + ProcessHandle.current().pid());
        Files.createDirectories(work.resolve("input"));
        Path jar = Files.write(work.resolve("functions.jar"), Fixtures.functions());
        gateway = GatewayProcess.start(work, "process", Duration.ofSeconds(90), "--jobs-input-dir",
                work.resolve("input").toString());
        ok(cli().run("deploy", "echo", "--jar", jar.toString(), "--handler", "com.example.Echo"));
        ok(cli().run("deploy", "greet", "--jar", jar.toString(), "--handler", "com.example.Greeter"));
    }

    @AfterAll
    static void stopGateway() throws Exception {
        if (gateway != null) {
            gateway.stop();
        }
    }

    private static TestCli cli() {
        TestCli c = new TestCli(work.resolve("home-" + HOMES.incrementAndGet()))
                .env("KILN_URL", gateway.url).env("KILN_DATA", gateway.dataDir.toString());
        c.workDir = work;
        return c;
    }

    private static TestCli.Result ok(TestCli.Result r) {
        assertEquals(Exit.OK, r.exit(), r.toString());
        return r;
    }

    private static String id(String submitted) {
        String first = submitted.lines().findFirst().orElseThrow();
        assertTrue(first.matches("Job [0-9a-f]{16} submitted: .*"), first);
        return first.substring(4, 20);
    }

    @Test
    void aCsvJobIsSubmittedWatchedListedAndItsResultsDownloaded() throws Exception {
        Files.writeString(work.resolve("people.csv"), "name,age\nAnn,30\n\"Bo, Jr\",7\nCy,18\n");
        TestCli.Result r = ok(cli().run("jobs", "submit", "--function", "echo", "--csv", "people.csv", "--watch"));
        String out = r.out();
        String id = id(out);
        assertTrue(out.contains("\nsucceeded: 3/3 done, 0 failed, 0 in flight"), out);
        assertTrue(out.endsWith("Job " + id + " succeeded: 3/3 done, 0 failed, 0 in flight, "
                + out.substring(out.lastIndexOf(", ") + 2)), out);
        assertFalse(out.contains("\r"), "no bar when stdout is not a terminal");

        String results = ok(cli().run("jobs", "results", id)).out();
        assertEquals(List.of(
                "{\"index\":0,\"input\":{\"name\":\"Ann\",\"age\":\"30\"},\"output\":{\"name\":\"Ann\",\"age\":\"30\"}}",
                "{\"index\":1,\"input\":{\"name\":\"Bo, Jr\",\"age\":\"7\"},\"output\":{\"name\":\"Bo, Jr\",\"age\":\"7\"}}",
                "{\"index\":2,\"input\":{\"name\":\"Cy\",\"age\":\"18\"},\"output\":{\"name\":\"Cy\",\"age\":\"18\"}}"),
                results.lines().toList());
        TestCli.Result saved = ok(cli().run("jobs", "results", id, "--out", "results.jsonl"));
        assertEquals(results, Files.readString(work.resolve("results.jsonl")));
        assertTrue(saved.stderr().startsWith("Wrote "), saved.stderr());
        assertEquals("", ok(cli().run("jobs", "results", id, "--failures")).out());

        String ls = ok(cli().run("jobs", "ls")).out();
        assertTrue(ls.startsWith("ID "), ls);
        assertTrue(ls.lines().anyMatch(l -> l.matches(id + " +echo +succeeded +3 +0 +3 +\\S+")), ls);
        JsonNode json = Json.parse(ok(cli().run("jobs", "ls", "-o", "json")).stdout());
        assertTrue(json.get("jobs").isArray());

        // A file the server reads from its --jobs-input-dir.
        Files.writeString(work.resolve("input/people.csv"), "name,age\nDi,40\n");
        String served = ok(cli().run("jobs", "submit", "--function", "echo", "--server-file", "people.csv",
                "--watch")).out();
        assertTrue(served.contains(" succeeded: 1/1 done, 0 failed"), served);
    }

    @Test
    void aJobThatExceedsItsToleranceSaysWhyAndIsRedrivenAndCancelled() throws Exception {
        Files.writeString(work.resolve("people.jsonl"), "{\"name\":\"Ann\",\"age\":30}\n"
                + "{\"name\":\"Bo\",\"age\":\"old\"}\n{\"name\":\"Cy\",\"age\":18}\n");
        TestCli.Result r = cli().run("jobs", "submit", "--function", "greet", "--file", "people.jsonl",
                "--concurrency", "1", "--watch");
        assertEquals(Exit.FAILED, r.exit(), r.toString());
        String id = id(r.out());
        assertTrue(r.out().trim().endsWith("(stopped: 1 record failed, more than the 0 tolerated)"), r.out());
        assertTrue(r.out().contains("Job " + id + " failed: 1/3 done, 1 failed, 0 in flight, 1 cancelled"), r.out());

        String failures = ok(cli().run("jobs", "results", id, "--failures")).out();
        JsonNode f = Json.parse(failures.lines().findFirst().orElseThrow());
        assertEquals(1, failures.lines().count());
        assertEquals(1, f.get("index").asInt());
        assertEquals("bad_input", f.get("error").get("code").asText());

        TestCli.Result cancel = cli().run("jobs", "cancel", id);
        assertEquals(Exit.FAILED, cancel.exit(), cancel.toString());
        assertTrue(cancel.stderr().contains("The server answered 409 (conflict): job " + id
                + " is not running (it is failed)."), cancel.stderr());

        assertEquals("Redriven 2 records of job " + id + ".\n", ok(cli().run("jobs", "redrive", id)).out());
        TestCli.Result again = cli().run("jobs", "watch", id, "-o", "json");
        JsonNode last = Json.parse(again.out().lines().reduce((a, b) -> b).orElseThrow());
        assertEquals("failed", last.get("state").asText(), again.toString());
        assertEquals(1, last.get("done").asInt(), "Bo, fed first, failed again; Cy was cancelled again");
        assertEquals(1, last.get("failed").asInt());
        assertEquals(1, last.get("cancelled").asInt());

        TestCli.Result unknown = cli().run("jobs", "watch", "00000000000000aa");
        assertEquals(Exit.NOT_FOUND, unknown.exit(), unknown.toString());
    }
}
