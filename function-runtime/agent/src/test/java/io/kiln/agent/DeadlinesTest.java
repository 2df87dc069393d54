package io.kiln.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.agent.testing.AgentProcess;
import io.kiln.agent.testing.Fixtures;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.RestoredFrame;
import io.kiln.protocol.ResultFrame;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.kiln.agent.testing.AgentSession.expect;
import static io.kiln.agent.testing.AgentSession.meta;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The agent's deadlines for init and restore, and its cap on a result, each with its code. */
class DeadlinesTest {

    @Test
    void anInitPastItsDeadlineIsInitTimeoutAndTheInstanceRefusesCalls() {
        try (AgentProcess a = AgentProcess.start(List.of("-Dkiln.test.slowInitMs=20000"))) {
            a.ready();
            // 3 s: past what reading the jar and reaching Slow's static init takes even on a machine
            // loaded many times over (300 ms once fired while the agent still read the jar, so the
            // stack below was the agent's own), and far short of the init's 20 s.
            var meta = Json.object().put("handler", "com.example.Slow").put("initTimeoutMs", 3000);
            JsonNode m = meta(expect(a.load(Fixtures.functions(), meta), ErrorFrame.class, 0));
            assertEquals("init_timeout", m.get("code").asText());
            assertEquals(3000, m.get("timeoutMs").asInt());
            assertEquals("init did not finish within 3000 ms; the host should replace this instance",
                    m.get("message").asText());
            assertTrue(m.get("stack").toString().contains("com.example.Slow."), m.toString());
            assertEquals("not_loaded", meta(expect(a.invoke(1, "1"), ErrorFrame.class, 1)).get("code").asText());
        }
    }

    @Test
    void aRestoreHookPastItsDeadlineIsRestoreTimeout() {
        try (AgentProcess a = AgentProcess.start(List.of("-Dkiln.test.slowRestoreMs=20000"))) {
            a.ready();
            expect(a.load(Fixtures.functions(), "com.example.Slow"), InitializedFrame.class, 0);
            RestoredFrame frame = Restores.frame(System.currentTimeMillis(), 64, (byte) 1);
            a.send(new RestoredFrame("{\"epochMs\":" + System.currentTimeMillis() + ",\"restoreTimeoutMs\":300}",
                    frame.body()));
            JsonNode m = meta(a.reply(ErrorFrame.class));
            assertEquals("restore_timeout", m.get("code").asText());
            assertEquals(300, m.get("timeoutMs").asInt());
            assertTrue(m.get("stack").toString().contains("com.example.Slow."), m.toString());
        }
    }

    @Test
    void aResultOverTheCapIsResultTooLargeAndTheInstanceKeepsServing() {
        try (AgentProcess a = AgentProcess.start(List.of("-Xmx256m"))) {
            a.ready();
            expect(a.load(Fixtures.functions(), "com.example.Slow"), InitializedFrame.class, 0);
            int over = 16 * 1024 * 1024 + 1;
            JsonNode m = meta(expect(a.invoke(1, Integer.toString(over)), ErrorFrame.class, 1));
            assertEquals("result_too_large", m.get("code").asText());
            assertTrue(m.get("message").asText().contains(Integer.toString(over)), m.toString());
            ResultFrame fine = expect(a.invoke(2, "3"), ResultFrame.class, 2);
            assertEquals(3, fine.body().length);
        }
    }
}
