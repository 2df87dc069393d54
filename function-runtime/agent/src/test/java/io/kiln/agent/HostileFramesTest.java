package io.kiln.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.agent.testing.Fixtures;
import io.kiln.agent.testing.InProcessAgent;
import io.kiln.agent.testing.Raw;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.InvokeFrame;
import io.kiln.protocol.Limits;
import io.kiln.protocol.ResultFrame;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static io.kiln.agent.testing.AgentSession.expect;
import static io.kiln.agent.testing.AgentSession.meta;
import static io.kiln.agent.testing.AgentSession.text;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Frames a host must not send, which leave the channel in step: each gets one ERROR with a
 * code and the offending call id, and the agent goes on serving. (The fatal ones, after which
 * nothing can be trusted, are in {@link AgentProcessTest}: they end the process.)
 */
class HostileFramesTest {

    private static void assertError(ErrorFrame e, long callId, String code, String message) {
        assertEquals(callId, e.callId(), e.toString());
        JsonNode m = meta(e);
        assertEquals(code, m.get("code").asText(), e.toString());
        assertEquals(message, m.get("message").asText(), e.toString());
    }

    @Test
    void everyRecoverableViolationGetsItsErrorAndTheAgentKeepsServing() {
        try (InProcessAgent a = new InProcessAgent()) {
            a.ready();

            // Unknown type, with a payload that must be skipped, not read as the next header.
            a.sendRaw(Raw.frame(42, 5, 2, 3, "{}abc".getBytes(StandardCharsets.UTF_8)));
            assertError(a.reply(ErrorFrame.class), 5, "unknown_frame_type", "unknown frame type 42");

            // Call ids the type forbids.
            a.sendRaw(Raw.frame(2, 9, 0, 0, new byte[0]));
            assertError(a.reply(ErrorFrame.class), 9, "bad_call_id",
                    "LOAD with call id 9 (must be ZERO)");
            a.sendRaw(Raw.frame(5, 0, 0, 1, new byte[]{'x'}));
            assertError(a.reply(ErrorFrame.class), 0, "bad_call_id",
                    "INVOKE with call id 0 (must be NON_ZERO)");

            // Over the caps: metadata of any frame, and a body on a type that has none.
            int tooBig = Limits.DEFAULT.maxMetadata() + 1;
            a.sendRaw(Raw.frame(5, 11, tooBig, 0, new byte[tooBig]));
            assertError(a.reply(ErrorFrame.class), 11, "frame_too_large",
                    "INVOKE metadata of 262145 bytes over the cap of 262144");
            a.sendRaw(Raw.frame(9, 0, 0, 2, new byte[]{1, 2}));
            assertError(a.reply(ErrorFrame.class), 0, "frame_too_large",
                    "SHUTDOWN body of 2 bytes over the cap of 0");

            // Metadata that is not UTF-8, and metadata that is not a JSON object.
            a.sendRaw(Raw.frame(5, 6, 2, 0, new byte[]{(byte) 0xC3, 0x28}));
            assertError(a.reply(ErrorFrame.class), 6, "bad_metadata",
                    "INVOKE metadata is not valid UTF-8");
            a.send(new InvokeFrame(7, "[1]", new byte[0]));
            assertError(a.reply(ErrorFrame.class), 7, "not_loaded", "no function loaded yet");

            // Frames only the agent sends; an ERROR from the host is never answered.
            a.sendRaw(Raw.frame(6, 8, 0, 0, new byte[0]));
            assertError(a.reply(ErrorFrame.class), 8, "unexpected_frame",
                    "RESULT is sent by the agent, never to it");
            a.sendRaw(Raw.frame(7, 0, 0, 0, new byte[0]));
            a.sendRaw(Raw.frame(1, 0, 0, 0, new byte[0]));
            assertError(a.reply(ErrorFrame.class), 0, "unexpected_frame",
                    "READY is sent by the agent, never to it");

            // Still in step and serving.
            expect(a.load(Fixtures.functions(), "com.example.Upper"), InitializedFrame.class, 0);
            a.send(new InvokeFrame(12, "[1]", new byte[0]));
            assertError(a.reply(ErrorFrame.class), 12, "bad_metadata",
                    "metadata is not a JSON object");
            a.send(new InvokeFrame(13, "{\"timeoutMs\":-1}", new byte[0]));
            assertError(a.reply(ErrorFrame.class), 13, "bad_metadata",
                    "\"timeoutMs\" must be a positive integer");
            assertEquals("STILL HERE", text(expect(a.invoke(14, "still here"),
                    ResultFrame.class, 14)));
        }
    }

    @Test
    void aSecondInvokeWhileACallRunsIsBusy() {
        try (InProcessAgent a = new InProcessAgent()) {
            a.ready();
            expect(a.load(Fixtures.functions(), "com.example.Sleeper"), InitializedFrame.class, 0);
            a.send(new InvokeFrame(1, "", "sleep 300".getBytes(StandardCharsets.UTF_8)));
            a.send(new InvokeFrame(2, "", "sleep 1".getBytes(StandardCharsets.UTF_8)));
            assertError(a.reply(ErrorFrame.class), 2, "busy",
                    "call 1 is still running; one call at a time");
            assertEquals("slept 300", text(a.reply(ResultFrame.class)));
            assertEquals("slept 1", text(expect(a.invoke(3, "sleep 1"), ResultFrame.class, 3)));
        }
    }

    @Test
    void endOfStreamBetweenFramesIsACleanExit() {
        InProcessAgent a = new InProcessAgent();
        a.ready();
        a.closeInput();
        assertEquals(null, a.next());
        assertEquals(ExitCodes.CLEAN, a.exitCode());
    }
}
