package com.example.restorehooks;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.agent.Json;
import io.kiln.agent.testing.AgentProcess;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.RestoredFrame;
import io.kiln.protocol.ResultFrame;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static io.kiln.agent.testing.AgentSession.expect;
import static io.kiln.agent.testing.AgentSession.meta;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * target/restore-hooks.jar through LOAD (init and priming) and RESTORED, as the platform runs a
 * clone restored from the function's snapshot; two agent processes stand for two clones.
 */
class TokensIT {

    @Test
    void everyRestoreReconnectsAndDrawsANewInstanceId() throws Exception {
        JsonNode first;
        try (AgentProcess a = loaded()) {
            restore(a, (byte) 1);
            first = call(a, 1, "ada");
            assertEquals("ada", first.get("user").asText());
            // #1 was opened at init and closed before the snapshot.
            assertEquals("connection #2", first.get("connection").asText());
            assertEquals(1, first.get("beforeSnapshot").asInt());
            assertEquals(1, first.get("afterRestore").asInt());
            assertEquals(1, first.get("calls").asInt());
            assertTrue(first.get("token").asText().matches("[0-9a-f]{32}"), first.toString());
            assertTrue(first.get("instance").asText().matches("[0-9a-f]{16}"), first.toString());

            JsonNode again = call(a, 2, "ada");
            assertEquals(first.get("instance"), again.get("instance"));
            assertNotEquals(first.get("token"), again.get("token"));

            restore(a, (byte) 2); // restored once more: a new instance id, a new connection
            JsonNode restored = call(a, 3, "ada");
            assertEquals("connection #3", restored.get("connection").asText());
            assertEquals(2, restored.get("afterRestore").asInt());
            assertNotEquals(first.get("instance"), restored.get("instance"));
        }
        try (AgentProcess b = loaded()) {
            restore(b, (byte) 3);
            JsonNode other = call(b, 1, "ada");
            assertEquals("connection #2", other.get("connection").asText());
            assertEquals(1, other.get("beforeSnapshot").asInt());
            assertEquals(1, other.get("afterRestore").asInt());
            assertNotEquals(first.get("instance"), other.get("instance"));
            assertNotEquals(first.get("token"), other.get("token"));
        }
    }

    /** An agent with the function initialised and primed: what the function snapshot holds. */
    private static AgentProcess loaded() throws Exception {
        AgentProcess a = AgentProcess.start();
        a.ready();
        byte[] jar = Files.readAllBytes(Path.of(System.getProperty("kiln.example.jar")));
        InitializedFrame init = expect(a.load(jar, "com.example.restorehooks.Tokens"),
                InitializedFrame.class, 0);
        assertEquals(2, meta(init).get("hooks").asInt()); // the reseed and the handler
        return a;
    }

    /** RESTORED as the host sends it after a restore: fresh entropy and the wall clock. */
    private static void restore(AgentProcess a, byte fill) {
        byte[] entropy = new byte[64];
        Arrays.fill(entropy, fill);
        a.send(new RestoredFrame("{\"epochMs\":" + System.currentTimeMillis() + "}", entropy));
        assertEquals(2, meta(a.reply(RestoredFrame.class)).get("hooks").asInt());
    }

    private static JsonNode call(AgentProcess a, long id, String user) throws Exception {
        ResultFrame r = expect(a.invoke(id, user), ResultFrame.class, id);
        return Json.MAPPER.readTree(r.body());
    }
}
