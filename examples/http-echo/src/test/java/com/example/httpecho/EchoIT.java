package com.example.httpecho;

import io.kiln.agent.testing.AgentProcess;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.ResultFrame;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.kiln.agent.testing.AgentSession.expect;
import static io.kiln.agent.testing.AgentSession.meta;
import static io.kiln.agent.testing.AgentSession.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** target/http-echo.jar deployed into the real agent, called as the gateway calls it. */
class EchoIT {

    @Test
    void echoesStatusAndBinary() throws Exception {
        try (AgentProcess a = AgentProcess.start()) {
            a.ready();
            byte[] jar = Files.readAllBytes(Path.of(System.getProperty("kiln.example.jar")));
            expect(a.load(jar, "com.example.httpecho.Echo"), InitializedFrame.class, 0);

            ResultFrame r = call(a, 1, "{\"method\":\"GET\",\"path\":\"/orders/7\","
                    + "\"query\":\"status=201&q=a%20b\",\"headers\":[[\"Accept\",\"*/*\"],"
                    + "[\"X-Multi\",\"1\"],[\"x-multi\",\"2\"],[\"X-Quote\",\"say \\\"hi\\\"\"]]}");
            assertEquals("{\"status\":201,\"headers\":[[\"Content-Type\",\"application/json\"]]}",
                    meta(r).get("http").toString());
            assertEquals("{\"method\":\"GET\",\"path\":\"/orders/7\","
                    + "\"query\":\"status=201&q=a%20b\",\"headers\":{\"Accept\":[\"*/*\"],"
                    + "\"X-Multi\":[\"1\",\"2\"],\"X-Quote\":[\"say \\\"hi\\\"\"]}}", text(r));

            r = call(a, 2, "{\"method\":\"GET\",\"path\":\"/binary\"}");
            assertEquals("{\"status\":200,\"headers\":[[\"Content-Type\","
                    + "\"application/octet-stream\"]]}", meta(r).get("http").toString());
            byte[] all = new byte[256];
            for (int i = 0; i < 256; i++) {
                all[i] = (byte) i;
            }
            assertArrayEquals(all, r.body());

            r = call(a, 3, "{\"method\":\"GET\",\"path\":\"/\",\"query\":\"status=abc\"}");
            assertEquals("{\"status\":400,\"headers\":[[\"Content-Type\","
                    + "\"text/plain; charset=utf-8\"]]}", meta(r).get("http").toString());
            assertEquals("status must be a number from 100 to 599, not abc\n", text(r));

            // Invoked directly, without an HTTP trigger: the body arrives as POST /.
            r = expect(a.invoke(4, "hi"), ResultFrame.class, 4);
            assertEquals("{\"method\":\"POST\",\"path\":\"/\",\"query\":\"\",\"headers\":{}}",
                    text(r));
        }
    }

    private static ResultFrame call(AgentProcess a, long id, String http) {
        return expect(a.invoke(id, "{\"http\":" + http + "}", new byte[0]), ResultFrame.class, id);
    }
}
