package io.kiln.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.agent.testing.AgentProcess;
import io.kiln.agent.testing.Fixtures;
import io.kiln.agent.testing.Raw;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.Frame;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.InvokeFrame;
import io.kiln.protocol.LogFrame;
import io.kiln.protocol.ReadyFrame;
import io.kiln.protocol.ResultFrame;
import io.kiln.protocol.ShutdownFrame;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.kiln.agent.testing.AgentSession.expect;
import static io.kiln.agent.testing.AgentSession.meta;
import static io.kiln.agent.testing.AgentSession.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent as the host runs it: a separate JVM speaking frames on stdin/stdout, with
 * {@code System.out}/{@code System.err} captured and real exit codes.
 */
class AgentProcessTest {

    @Test
    void readyCapturedOutputLogCapAndShutdown() {
        try (AgentProcess a = AgentProcess.start()) {
            ReadyFrame ready = a.ready();
            JsonNode r = meta(ready);
            assertEquals(1, r.get("protocol").asInt());
            assertEquals("0.1.0-SNAPSHOT", r.get("agent").asText());
            assertEquals(System.getProperty("java.version"), r.get("java").asText());
            assertEquals("host", r.get("mode").asText());

            expect(a.load(Fixtures.functions(), io.kiln.agent.Json.object()
                    .put("handler", "com.example.Chatty").put("logLimitBytes", 64)),
                    InitializedFrame.class, 0);

            // Printed lines become LOG frames of the call, all before its RESULT.
            a.send(new InvokeFrame(1, "", "2".getBytes(StandardCharsets.UTF_8)));
            assertEquals(List.of("stdout:line 0\n", "stdout:line 1\n", "stderr:partial"),
                    logsUntilReply(a, 1));

            // Over the cap: the first 64 bytes, one notice, nothing more (stderr dropped too).
            a.send(new InvokeFrame(2, "", "20".getBytes(StandardCharsets.UTF_8)));
            List<String> logs = logsUntilReply(a, 2);
            assertEquals("line 0\nline 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\n"
                    + "line 8\nl", String.join("", logs.subList(0, logs.size() - 1))
                    .replace("stdout:", ""));
            assertEquals("kiln:kiln: log truncated after 64 bytes\n", logs.get(logs.size() - 1));

            // The next call has its own budget.
            a.send(new InvokeFrame(3, "", "1".getBytes(StandardCharsets.UTF_8)));
            assertEquals(List.of("stdout:line 0\n", "stderr:partial"), logsUntilReply(a, 3));

            a.send(new ShutdownFrame(""));
            assertEquals(List.of(), a.drain());
            assertEquals(ExitCodes.CLEAN, a.exitCode());
            assertEquals("", a.stderr()); // host mode: nothing but frames leaves the agent
        }
    }

    /** LOG frames of {@code callId} as "stream:body" until its RESULT, which must come next. */
    private static List<String> logsUntilReply(AgentProcess a, long callId) {
        List<String> seen = new java.util.ArrayList<>();
        while (true) {
            Frame f = a.next();
            if (f instanceof LogFrame log) {
                assertEquals(callId, log.callId(), log.toString());
                seen.add(meta(log).get("stream").asText() + ":" + text(log));
            } else {
                expect(f, ResultFrame.class, callId);
                return seen;
            }
        }
    }

    @Test
    void initFailureCarriesTheInitLog() {
        try (AgentProcess a = AgentProcess.start()) {
            a.ready();
            ErrorFrame e = expect(a.load(Fixtures.functions(), "com.example.BadStatic"),
                    ErrorFrame.class, 0);
            assertEquals("init_failed", meta(e).get("code").asText());
            assertEquals("static_init", meta(e).get("phase").asText());
            assertEquals("loading config\n", text(e));
            assertEquals("loading config\n", a.log(0, "stdout"));
        }
    }

    @Test
    void outOfMemoryIsReportedAndTheAgentExits() {
        try (AgentProcess a = AgentProcess.start(List.of("-Xmx64m"))) {
            a.ready();
            expect(a.load(Fixtures.functions(), "com.example.Hog"), InitializedFrame.class, 0);
            assertEquals("fine", text(expect(a.invoke(1, "small"), ResultFrame.class, 1)));
            ErrorFrame e = expect(a.invoke(2, "all"), ErrorFrame.class, 2);
            assertEquals("fatal", meta(e).get("code").asText());
            assertEquals("java.lang.OutOfMemoryError", meta(e).get("type").asText());
            assertEquals(List.of(), a.drain());
            assertEquals(ExitCodes.FATAL, a.exitCode());
        }
    }

    @Test
    void callPastItsDeadline() {
        try (AgentProcess a = AgentProcess.start()) {
            a.ready();
            expect(a.load(Fixtures.functions(), "com.example.Sleeper"), InitializedFrame.class, 0);

            long t0 = System.nanoTime();
            ErrorFrame e = expect(a.invoke(1, "{\"timeoutMs\":300}",
                    "sleep 20000".getBytes(StandardCharsets.UTF_8)), ErrorFrame.class, 1);
            long tookMs = (System.nanoTime() - t0) / 1_000_000;
            assertEquals("timeout", meta(e).get("code").asText());
            assertEquals(300, meta(e).get("timeoutMs").asInt());
            assertEquals("call did not finish within 300 ms; the host should replace this "
                    + "instance", meta(e).get("message").asText());
            assertTrue(meta(e).get("stack").toString().contains("com.example.Sleeper.handle("),
                    e.toString());
            assertTrue(tookMs >= 300 && tookMs < 5000, "timed out after " + tookMs + " ms");

            // The interrupt ended the sleep: the instance serves again.
            assertEquals("slept 1", text(expect(a.invoke(2, "sleep 1"), ResultFrame.class, 2)));

            // Code that ignores the interrupt keeps the instance busy until it returns.
            expect(a.invoke(3, "{\"timeoutMs\":200}", "spin 4000".getBytes(StandardCharsets.UTF_8)),
                    ErrorFrame.class, 3);
            ErrorFrame busy = expect(a.invoke(4, "sleep 1"), ErrorFrame.class, 4);
            assertEquals("busy", meta(busy).get("code").asText());
            long id = 5;
            Frame f;
            do {
                sleep(100);
                f = a.invoke(id, "sleep 1");
            } while (f instanceof ErrorFrame && id++ < 100);
            assertEquals("slept 1", text(expect(f, ResultFrame.class, id)));
        }
    }

    @Test
    void badMagicEndsTheAgent() {
        assertFatal(Raw.frame('H', 'T', 1, 5, 1, 0, 0, new byte[0]), "bad_magic",
                "bad magic 0x4854, expected 0x4B4C");
    }

    @Test
    void wrongVersionEndsTheAgent() {
        assertFatal(Raw.frame(0x4B, 0x4C, 2, 5, 1, 0, 0, new byte[0]), "unsupported_version",
                "protocol version 2 not supported, this side speaks 1");
    }

    @Test
    void truncatedFrameEndsTheAgent() {
        try (AgentProcess a = AgentProcess.start()) {
            a.ready();
            byte[] full = Raw.frame(5, 1, 0, 10, "12345".getBytes(StandardCharsets.UTF_8));
            a.sendRaw(full);
            a.closeInput();
            ErrorFrame e = a.reply(ErrorFrame.class);
            assertEquals("{\"code\":\"truncated_frame\",\"message\":\"stream ended inside the "
                    + "payload of a INVOKE frame\"}", e.metadata());
            assertNull(a.next());
            assertEquals(ExitCodes.PROTOCOL, a.exitCode());
        }
    }

    @Test
    void stalledFrameEndsTheAgentInsteadOfHanging() {
        try (AgentProcess a = AgentProcess.start("--frame-timeout-ms", "300")) {
            a.ready();
            long t0 = System.nanoTime();
            a.sendRaw(new byte[]{0x4B, 0x4C, 1, 5, 0, 0}); // and then nothing, channel open
            ErrorFrame e = a.reply(ErrorFrame.class);
            long tookMs = (System.nanoTime() - t0) / 1_000_000;
            assertEquals("truncated_frame", meta(e).get("code").asText());
            assertTrue(meta(e).get("message").asText().startsWith("a frame stalled for "));
            assertTrue(tookMs >= 300 && tookMs < 5000, "noticed after " + tookMs + " ms");
            assertEquals(ExitCodes.PROTOCOL, a.exitCode());
        }
    }

    private static void assertFatal(byte[] frame, String code, String message) {
        try (AgentProcess a = AgentProcess.start()) {
            a.ready();
            a.sendRaw(frame);
            ErrorFrame e = a.reply(ErrorFrame.class);
            assertEquals(0, e.callId());
            assertEquals(code, meta(e).get("code").asText());
            assertEquals(message, meta(e).get("message").asText());
            assertNull(a.next());
            assertEquals(ExitCodes.PROTOCOL, a.exitCode());
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
