package io.kiln.agent;

import io.kiln.agent.testing.Fixtures;
import io.kiln.agent.testing.InProcessAgent;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.Frame;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.ResultFrame;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static io.kiln.agent.testing.AgentSession.expect;
import static io.kiln.agent.testing.AgentSession.meta;
import static io.kiln.agent.testing.AgentSession.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every handler style and binding, in-process, with the user jar in its own class loader. */
class HandlerStylesTest {

    /** A fresh agent with {@code handler} loaded from the fixtures jar. */
    private static InProcessAgent loaded(String handler) {
        InProcessAgent a = new InProcessAgent();
        a.ready();
        expect(a.load(Fixtures.functions(), handler), InitializedFrame.class, 0);
        return a;
    }

    private static ResultFrame call(InProcessAgent a, long id, String body) {
        return expect(a.invoke(id, body), ResultFrame.class, id);
    }

    @Test
    void kilnHandlerBindsRecordsBothWays() {
        try (InProcessAgent a = new InProcessAgent()) {
            a.ready();
            InitializedFrame init = expect(a.load(Fixtures.functions(), "com.example.Greeter"),
                    InitializedFrame.class, 0);
            assertEquals("kiln", meta(init).get("style").asText());
            assertEquals("com.example.Person", meta(init).get("input").asText());
            assertEquals("com.example.Greeting", meta(init).get("output").asText());

            ResultFrame r = call(a, 1, "{\"name\":\"Ada\",\"age\":36}");
            assertEquals("{\"message\":\"Hello, Ada\",\"adult\":true}", text(r));
            assertEquals("application/json", meta(r).get("contentType").asText());
            assertEquals("call 1\n", a.log(1, "log"));

            r = call(a, 2, "{\"name\":\"Tim\",\"age\":9,\"unknown\":1}");
            assertEquals("{\"message\":\"Hello, Tim\",\"adult\":false}", text(r));
        }
    }

    @Test
    void nestedGenericsResolvedThroughGenericSuperclass() {
        try (InProcessAgent a = new InProcessAgent()) {
            a.ready();
            InitializedFrame init = expect(a.load(Fixtures.functions(), "com.example.Totals"),
                    InitializedFrame.class, 0);
            assertEquals("java.util.List<java.util.Map<java.lang.String,com.example.Order>>",
                    meta(init).get("input").asText());
            ResultFrame r = call(a, 1, "[{\"a\":{\"id\":\"o1\",\"quantity\":2,\"price\":1.5}},"
                    + "{\"b\":{\"id\":\"o2\",\"quantity\":1,\"price\":10.0},"
                    + "\"c\":{\"id\":\"o3\",\"quantity\":3,\"price\":0.5}}]");
            assertEquals("{\"orders\":3,\"items\":6,\"total\":14.5,\"ids\":[\"a=o1\",\"b=o2\","
                    + "\"c=o3\"]}", text(r));
        }
    }

    @Test
    void javaTimeTravelsAsIsoStrings() {
        try (InProcessAgent a = loaded("com.example.Reschedule")) {
            ResultFrame r = call(a, 1,
                    "{\"day\":\"2026-11-21\",\"start\":\"2026-11-21T09:30:00Z\"}");
            assertEquals("{\"day\":\"2026-11-28\",\"start\":\"2026-11-28T09:30:00Z\"}",
                    text(r));

            ErrorFrame e = expect(a.invoke(2, "{\"day\":\"21/11/2026\"}"), ErrorFrame.class, 2);
            assertEquals("bad_input", meta(e).get("code").asText());
        }
    }

    @Test
    void javaUtilFunctionWithRawStrings() {
        try (InProcessAgent a = loaded("com.example.Upper")) {
            ResultFrame r = call(a, 1, "hello, wörld");
            assertEquals("HELLO, WÖRLD", text(r));
            assertEquals("text/plain; charset=utf-8", meta(r).get("contentType").asText());
            assertEquals("", text(call(a, 2, "")));
        }
    }

    @Test
    void rawBytesInAndOut() {
        try (InProcessAgent a = loaded("com.example.Bytes")) {
            ResultFrame r = expect(a.invoke(1, "", new byte[]{0, 1, 2, (byte) 0xff}),
                    ResultFrame.class, 1);
            assertArrayEquals(new byte[]{(byte) 0xff, (byte) 0xfe, (byte) 0xfd, 0}, r.body());
            assertEquals("application/octet-stream", meta(r).get("contentType").asText());
        }
    }

    @Test
    void inputStreamInput() {
        try (InProcessAgent a = loaded("com.example.Counter")) {
            assertEquals("7 bytes", text(call(a, 1, "1234567")));
        }
    }

    @Test
    void staticMethodWithRecordInputAndPrimitiveOutput() {
        try (InProcessAgent a = loaded("com.example.Methods::add")) {
            ResultFrame r = call(a, 1, "{\"a\":2,\"b\":40}");
            assertEquals("42", text(r));
            assertEquals("application/json", meta(r).get("contentType").asText());
        }
    }

    @Test
    void instanceMethodWithGenericMapAndContext() {
        try (InProcessAgent a = loaded("com.example.Methods::describe")) {
            assertEquals("{a=1, b=2} for fn", text(call(a, 1, "{\"b\":2,\"a\":1}")));
        }
    }

    @Test
    void overloadWithMostParametersWins() {
        try (InProcessAgent a = loaded("com.example.Methods::over")) {
            assertEquals("two:x", text(call(a, 1, "x")));
        }
    }

    @Test
    void streamMethod() {
        try (InProcessAgent a = loaded("com.example.Methods::reverse")) {
            ResultFrame r = call(a, 1, "abc");
            assertEquals("cba", text(r));
            assertEquals("application/octet-stream", meta(r).get("contentType").asText());
        }
    }

    @Test
    void methodWithoutInputAndVoidMethod() {
        try (InProcessAgent a = loaded("com.example.Methods::constant")) {
            assertEquals("constant", text(call(a, 1, "ignored")));
        }
        try (InProcessAgent a = loaded("com.example.Methods::nothing")) {
            ResultFrame r = call(a, 1, "x");
            assertEquals(0, r.body().length);
            assertFalse(meta(r).has("contentType"));
        }
    }

    @Test
    void httpRequestAndResponseMapping() {
        try (InProcessAgent a = loaded("com.example.Http")) {
            String meta = "{\"http\":{\"method\":\"post\",\"path\":\"/orders\","
                    + "\"query\":\"q=a%20b&x=1\",\"headers\":[[\"Content-Type\",\"text/plain\"],"
                    + "[\"X-Multi\",\"1\"],[\"x-multi\",\"2\"]]}}";
            ResultFrame r = expect(a.invoke(1, meta, "hi".getBytes(StandardCharsets.UTF_8)),
                    ResultFrame.class, 1);
            assertEquals("POST /orders text/plain HI", text(r));
            assertEquals("{\"status\":201,\"headers\":[[\"Location\",\"/orders/7\"],"
                    + "[\"X-Query\",\"a b\"],[\"X-Multi\",\"1|2\"],[\"Set-Cookie\",\"a=1\"],"
                    + "[\"Set-Cookie\",\"b=2\"]]}", meta(r).get("http").toString());
            assertFalse(meta(r).has("contentType"));

            // Invoked directly, without an HTTP trigger: the body as POST /.
            assertEquals("POST / - X", text(call(a, 2, "x")));

            // A header that could split a response is refused as bad input.
            Frame bad = a.invoke(3, "{\"http\":{\"headers\":[[\"X-A\",\"1\\r\\nX-B: 2\"]]}}",
                    new byte[0]);
            ErrorFrame e = expect(bad, ErrorFrame.class, 3);
            assertEquals("bad_input", meta(e).get("code").asText());
            assertEquals("bad HTTP request: CR, LF or NUL in the value of header X-A",
                    meta(e).get("message").asText());
        }
    }

    @Test
    void environmentNamesAndDeadlineInContext() {
        try (InProcessAgent a = new InProcessAgent()) {
            a.ready();
            expect(a.load(Fixtures.functions(), Json.object().put("handler", "com.example.Env")
                    .put("function", "greeter").put("version", "3")
                    .set("env", Json.object().put("GREETING", "hi"))), InitializedFrame.class, 0);
            ResultFrame r = expect(a.invoke(5, "{\"timeoutMs\":5000}", new byte[0]),
                    ResultFrame.class, 5);
            assertEquals("hi greeter:3 call=5 inTime=true", text(r));
        }
    }

    @Test
    void lambdaRequestHandlerRunsUnchanged() {
        try (InProcessAgent a = new InProcessAgent()) {
            a.ready();
            InitializedFrame init = expect(a.load(Fixtures.functions(), Json.object()
                    .put("handler", "com.example.lambda.Hello").put("function", "hello")
                    .put("version", "2").put("memoryMb", 256)), InitializedFrame.class, 0);
            assertEquals("lambda", meta(init).get("style").asText());
            ResultFrame r = call(a, 99, "{\"name\":\"Lambda\",\"extra\":[1,2]}");
            assertEquals("{\"greeting\":\"Hello, Lambda\",\"requestId\":\"0000000000000063\","
                    + "\"function\":\"hello:2\",\"arn\":\"kiln:function:hello:2\","
                    + "\"memory\":256,\"timeLeft\":true,\"identity\":true}", text(r));
            assertEquals("hello from lambda\n", a.log(99, "log"));
        }
    }

    @Test
    void lambdaContextIsComplete() throws Exception {
        try (InProcessAgent a = new InProcessAgent()) {
            a.ready();
            expect(a.load(Fixtures.functions(), Json.object()
                    .put("handler", "com.example.lambda.ContextProbe").put("function", "orders")
                    .put("version", "4").put("memoryMb", 512)), InitializedFrame.class, 0);
            ResultFrame r = expect(a.invoke(0xabcdef0123L, "{\"timeoutMs\":5000}",
                    "{}".getBytes(StandardCharsets.UTF_8)), ResultFrame.class, 0xabcdef0123L);
            com.fasterxml.jackson.databind.JsonNode c = Json.MAPPER.readTree(text(r));
            long remaining = c.get("remainingTimeInMillis").asLong();
            assertTrue(remaining > 0 && remaining <= 5000, "remaining " + remaining);
            ((com.fasterxml.jackson.databind.node.ObjectNode) c).remove("remainingTimeInMillis");
            assertEquals("{\"requestId\":\"000000abcdef0123\",\"functionName\":\"orders\","
                    + "\"functionVersion\":\"4\",\"arn\":\"kiln:function:orders:4\","
                    + "\"memoryLimitInMB\":512,\"logGroupName\":\"/kiln/orders\","
                    + "\"logStreamName\":\"orders/4\",\"identity\":null,\"clientContext\":null}",
                    c.toString());
            assertEquals("probing 000000abcdef0123\n", a.log(0xabcdef0123L, "log"));
        }
    }

    @Test
    void lambdaStringsAreJsonAsOnLambda() {
        try (InProcessAgent a = loaded("com.example.lambda.Shout")) {
            ResultFrame r = call(a, 1, "\"hi\"");
            assertEquals("\"HI!\"", text(r));
            assertEquals("application/json", meta(r).get("contentType").asText());
        }
    }

    @Test
    void lambdaStreamHandler() {
        try (InProcessAgent a = loaded("com.example.lambda.Streams")) {
            assertEquals("[abc] via fn", text(call(a, 1, "abc")));
            assertEquals("streaming 3\n", a.log(1, "log"));
        }
    }

    @Test
    void lambdaMethodHandlerWithRecord() {
        try (InProcessAgent a = loaded("com.example.lambda.Pojo::value")) {
            assertEquals("7.5", text(call(a, 1, "{\"id\":\"x\",\"quantity\":3,\"price\":2.5}")));
        }
    }

    @Test
    void functionClassLoaderSeesOnlyTheJdkAndTheApi() {
        try (InProcessAgent a = loaded("com.example.Isolation")) {
            assertEquals("{\"io.kiln.agent.Main\":false,\"io.kiln.protocol.Frame\":false,"
                    + "\"com.fasterxml.jackson.core.JsonFactory\":false,"
                    + "\"io.kiln.function.Handler\":true,\"java.sql.Connection\":true,"
                    + "\"ObjectMapper\":\"user\",\"tccl\":true}", text(call(a, 1, "")));
        }
    }

    @Test
    void nestedLibJarsOfTheLambdaZipLayout() {
        try (InProcessAgent a = new InProcessAgent()) {
            a.ready();
            expect(a.load(Fixtures.withLib(), "com.example.lib.UsesLib"), InitializedFrame.class,
                    0);
            assertEquals("abab", text(call(a, 1, "ab")));
        }
    }
}
