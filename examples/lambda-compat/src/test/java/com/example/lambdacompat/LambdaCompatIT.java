package com.example.lambdacompat;

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

/** target/lambda-compat.jar, with aws-lambda-java-core inside, deployed into the real agent. */
class LambdaCompatIT {

    @Test
    void requestHandler() throws Exception {
        try (AgentProcess a = loaded("com.example.lambdacompat.Greeting", "lambda")) {
            ResultFrame r = expect(a.invoke(7, "{\"name\":\"Ada\",\"extra\":[1,2]}"),
                    ResultFrame.class, 7);
            assertEquals("{\"greeting\":\"Hello, Ada!\",\"function\":\"fn\",\"requestId\":\"0000000000000007\"}",
                    text(r));
            assertEquals("application/json", meta(r).get("contentType").asText());
            assertEquals("greeting Ada\n", a.log(7, "log"));
        }
    }

    @Test
    void requestStreamHandler() throws Exception {
        try (AgentProcess a = loaded("com.example.lambdacompat.Upper", "lambda-stream")) {
            ResultFrame r = expect(a.invoke(1, "hello, wörld"), ResultFrame.class, 1);
            assertEquals("HELLO, WÖRLD", text(r));
            assertEquals("application/octet-stream", meta(r).get("contentType").asText());
        }
    }

    private static AgentProcess loaded(String handler, String style) throws Exception {
        AgentProcess a = AgentProcess.start();
        a.ready();
        byte[] jar = Files.readAllBytes(Path.of(System.getProperty("kiln.example.jar")));
        InitializedFrame init = expect(a.load(jar, handler), InitializedFrame.class, 0);
        assertEquals(style, meta(init).get("style").asText());
        return a;
    }
}
