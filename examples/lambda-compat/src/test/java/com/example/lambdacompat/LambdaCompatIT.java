package com.example.lambdacompat;

import io.kiln.agent.testing.AgentProcess;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.ResultFrame;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
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

    @Test
    void apiGatewayHandlerOverHttp() throws Exception {
        try (AgentProcess a = loaded("com.example.lambdacompat.OrdersApi", "lambda")) {
            // What the gateway sends for POST /function/lambda-orders/orders/7?q=abc with "hi".
            ResultFrame r = expect(a.invoke(0x7f, "{\"http\":{\"method\":\"POST\","
                    + "\"path\":\"/orders/7\",\"query\":\"q=abc\",\"headers\":"
                    + "[[\"Content-Type\",\"text/plain\"]]}}", "hi".getBytes(StandardCharsets.UTF_8)),
                    ResultFrame.class, 0x7f);
            assertEquals("{\"status\":200,\"headers\":[[\"Content-Type\",\"application/json\"]]}",
                    meta(r).get("http").toString());
            assertEquals("{\"order\":\"7\",\"method\":\"POST\",\"q\":\"abc\",\"body\":\"hi\","
                    + "\"requestId\":\"000000000000007f\"}", text(r));
            assertEquals("POST /orders/7\n", a.log(0x7f, "log"));

            ResultFrame missing = expect(a.invoke(2, "{\"http\":{\"method\":\"GET\","
                    + "\"path\":\"/nothing\"}}", new byte[0]), ResultFrame.class, 2);
            assertEquals(404, meta(missing).get("http").get("status").asInt());
            assertEquals("no route for /nothing\n", text(missing));
        }
    }

    @Test
    void sqsBatchHandler() throws Exception {
        try (AgentProcess a = loaded("com.example.lambdacompat.OrderQueue", "lambda")) {
            ResultFrame r = expect(a.invoke(3, Files.readString(Path.of("events/sqs.json"))),
                    ResultFrame.class, 3);
            assertEquals("{\"batchItemFailures\":[{\"itemIdentifier\":"
                    + "\"2e1424d4-f796-459a-8184-9c92662be6da\"}]}", text(r));
            assertEquals("order 1001 processed\nmessage 2e1424d4-f796-459a-8184-9c92662be6da "
                    + "failed\n", a.log(3, "log"));
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
