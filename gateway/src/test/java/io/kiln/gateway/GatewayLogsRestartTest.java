package io.kiln.gateway;

import io.kiln.gateway.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A function's log lines survive a restart of the platform on the same data directory (process engine). */
class GatewayLogsRestartTest {

    private static final TestServer SERVER = TestServer.process("logs-restart", c -> c);

    @Test
    void aRestartedServerServesTheLinesWrittenBeforeAndGoesOnWithTheSeq() throws Exception {
        SERVER.ensure("greeter", "com.example.Greeter", "");
        String before = call("Before");
        List<Map<String, Object>> old = waitForLine(before, "greeting Before");

        SERVER.restart();

        List<Map<String, Object>> now = lines();
        assertTrue(now.size() >= old.size(), "no line lost: " + now);
        assertEquals(old, now.subList(0, old.size()), "the same lines with the same seqs, times and call ids");

        // since= reads them from disk too, oldest first.
        String firstTime = (String) old.get(0).get("time");
        assertEquals(old, SERVER.given().get("/v1/functions/greeter/logs?limit=" + old.size() + "&since="
                + firstTime).then().statusCode(200).extract().jsonPath().getList("lines"));
        SERVER.given().get("/v1/functions/greeter/logs?since=yesterday").then().statusCode(400)
                .body("error.message", equalTo("since must be an ISO-8601 time like 2026-11-21T14:00:00Z, got "
                        + "\"yesterday\""));
        SERVER.given().get("/v1/functions/greeter/logs?follow=true&since=" + firstTime).then().statusCode(400);

        String after = call("After");
        List<Map<String, Object>> all = waitForLine(after, "greeting After");
        long lastOld = ((Number) old.get(old.size() - 1).get("seq")).longValue();
        long newSeq = all.stream().filter(l -> after.equals(l.get("callId"))).mapToLong(l -> ((Number) l.get("seq"))
                .longValue()).min().orElseThrow();
        assertTrue(newSeq > lastOld, "the seq goes on: " + newSeq + " after " + lastOld);
    }

    private static String call(String name) {
        return SERVER.given().contentType("application/json").body("{\"name\":\"" + name + "\",\"age\":1}")
                .post("/function/greeter").then().statusCode(200).extract().header("X-Kiln-Call-Id");
    }

    private static List<Map<String, Object>> lines() {
        return SERVER.given().get("/v1/functions/greeter/logs?limit=2000").then().statusCode(200).extract()
                .jsonPath().getList("lines");
    }

    /** The log once it has {@code text} from {@code callId}: the instance's reader adds it asynchronously. */
    private static List<Map<String, Object>> waitForLine(String callId, String text) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            List<Map<String, Object>> lines = lines();
            if (lines.stream().anyMatch(l -> callId.equals(l.get("callId")) && text.equals(l.get("text")))) {
                return lines;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no \"" + text + "\" line of call " + callId + " within 30 s: " + lines);
            }
            Thread.sleep(50);
        }
    }
}
