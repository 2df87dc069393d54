package com.example.scheduled;

import io.kiln.agent.testing.AgentProcess;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.ResultFrame;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.kiln.agent.testing.AgentSession.expect;
import static io.kiln.agent.testing.AgentSession.meta;
import static io.kiln.agent.testing.AgentSession.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** target/scheduled.jar in the real agent, fed the ScheduledEvent a Kiln schedule of shape eventbridge sends. */
class HeartbeatIT {

    @Test
    void reportsTheFireTimeOfTheEventItWasGiven() throws Exception {
        AgentProcess a = AgentProcess.start();
        try (a) {
            a.ready();
            byte[] jar = Files.readAllBytes(Path.of(System.getProperty("kiln.example.jar")));
            InitializedFrame init = expect(a.load(jar, "com.example.scheduled.Heartbeat"), InitializedFrame.class, 0);
            assertEquals("lambda", meta(init).get("style").asText());
            ResultFrame r = expect(a.invoke(5, "{\"version\":\"0\",\"id\":\"6a7e8feb-b491-4cf7-a9f1-bf3703467718\","
                    + "\"detail-type\":\"Scheduled Event\",\"source\":\"aws.events\",\"account\":\"000000000000\","
                    + "\"time\":\"2026-03-29T01:00:00Z\",\"region\":\"kiln\","
                    + "\"resources\":[\"kiln:schedule/heartbeat\"],\"detail\":{}}"), ResultFrame.class, 5);
            String out = text(r);
            String head = "{\"schedule\":\"kiln:schedule/heartbeat\",\"fireTime\":\"2026-03-29T01:00:00Z\","
                    + "\"localFireTime\":\"2026-03-29T01:00Z\",\"eventId\":\"6a7e8feb-b491-4cf7-a9f1-bf3703467718\","
                    + "\"startedAfterMs\":";
            assertTrue(out.startsWith(head) && out.substring(head.length()).matches("\\d+}"), out);
            String log = a.log(5, "log");
            assertTrue(log.startsWith("kiln:schedule/heartbeat fired for 2026-03-29T01:00:00Z ("), log);
        }
    }
}
