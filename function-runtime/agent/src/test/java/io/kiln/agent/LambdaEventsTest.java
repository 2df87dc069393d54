package io.kiln.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.agent.testing.AgentProcess;
import io.kiln.agent.testing.Fixtures;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.ResultFrame;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.kiln.agent.testing.AgentSession.expect;
import static io.kiln.agent.testing.AgentSession.meta;
import static io.kiln.agent.testing.AgentSession.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Lambda handlers of AWS event types (compiled against aws-lambda-java-events, which the
 * fixtures jar bundles with joda-time), fed AWS's documented sample events
 * ({@code src/test/resources/events}) and HTTP requests. Each handler runs in an agent process
 * of its own, as in production: AWS's serialization keeps process-wide state for the one
 * function a runtime serves.
 */
class LambdaEventsTest {

    /** An agent process with {@code handler} loaded as function "orders", version 3. */
    private static AgentProcess loaded(String handler) {
        AgentProcess a = AgentProcess.start();
        a.ready();
        InitializedFrame init = expect(a.load(Fixtures.events(), Json.object()
                .put("handler", handler).put("function", "orders").put("version", "3")
                .put("memoryMb", 512)), InitializedFrame.class, 0);
        assertEquals("lambda", meta(init).get("style").asText());
        return a;
    }

    private static String resource(String name) {
        try (InputStream in = LambdaEventsTest.class.getResourceAsStream("/events/" + name)) {
            if (in == null) {
                throw new IllegalStateException("no test resource events/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode tree(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The sample event through {@code handler} (a Dump), against the expected getter tree. */
    private static void assertBinds(String handler, String sample) {
        try (AgentProcess a = loaded("com.example.events." + handler)) {
            ResultFrame r = expect(a.invoke(1, resource(sample)), ResultFrame.class, 1);
            assertEquals(tree(resource("bound/" + sample)), tree(text(r)), text(r));
        }
    }

    @Test
    void sqsEventBindsEveryField() {
        assertBinds("SqsDump", "sqs.json");
    }

    @Test
    void snsEventBindsEveryField() {
        assertBinds("SnsDump", "sns.json");
    }

    @Test
    void scheduledEventBindsItsJodaTime() {
        assertBinds("ScheduledDump", "scheduled.json");
    }

    @Test
    void s3EventBindsEveryField() {
        assertBinds("S3Dump", "s3.json");
    }

    @Test
    void restApiEventBindsEveryField() {
        assertBinds("RestApiDump", "apigateway-rest.json");
    }

    @Test
    void httpApiEventBindsEveryField() {
        assertBinds("HttpApiDump", "apigateway-http.json");
    }

    @Test
    void albEventBindsEveryField() {
        assertBinds("AlbDump", "alb.json");
    }

    @Test
    void sqsBatchFailuresComeBackAsBatchItemFailures() {
        try (AgentProcess a = loaded("com.example.events.SqsBatch")) {
            ResultFrame r = expect(a.invoke(5, "{\"Records\":[{\"messageId\":\"m1\",\"body\":\"ok\"},"
                    + "{\"messageId\":\"m2\",\"body\":\"bad\"},{\"messageId\":\"m3\",\"body\":\"ok\"}]}"),
                    ResultFrame.class, 5);
            assertEquals("{\"batchItemFailures\":[{\"itemIdentifier\":\"m2\"}]}", text(r));
            assertEquals("application/json", meta(r).get("contentType").asText());
            assertEquals("3 messages, 1 failed\n", a.log(5, "log"));

            ResultFrame none = expect(a.invoke(6, resource("sqs.json").replace("\"test\"", "\"ok\"")),
                    ResultFrame.class, 6);
            assertEquals("{\"batchItemFailures\":[]}", text(none));
        }
    }

    /** The gateway's INVOKE metadata for {@code POST /function/orders/orders/7?q=abc&q=d%20e}. */
    private static final String POST_ORDER = "{\"http\":{\"method\":\"POST\",\"path\":\"/orders/7\","
            + "\"query\":\"q=abc&q=d%20e&x\",\"headers\":[[\"Host\",\"kiln.test\"],"
            + "[\"Content-Type\",\"text/plain\"],[\"X-Multi\",\"1\"],[\"x-multi\",\"2\"],"
            + "[\"User-Agent\",\"curl/8\"],[\"Cookie\",\"c1=1; c2=2\"]]}}";

    @Test
    void restApiHandlerOverHttp() {
        try (AgentProcess a = loaded("com.example.events.RestApi")) {
            ResultFrame r = expect(a.invoke(0x1f, POST_ORDER, "hi".getBytes(StandardCharsets.UTF_8)),
                    ResultFrame.class, 0x1f);
            assertEquals("{\"status\":201,\"headers\":[[\"Content-Type\",\"text/plain\"],"
                    + "[\"X-Request-Id\",\"000000000000001f\"],[\"Set-Cookie\",\"a=1\"],"
                    + "[\"Set-Cookie\",\"b=2\"]]}", meta(r).get("http").toString());
            assertEquals("POST /orders/7 q=d e body=hi", text(r));
        }
    }

    @Test
    void restApiEventFromHttp() {
        try (AgentProcess a = loaded("com.example.events.RestApiDump")) {
            ResultFrame r = expect(a.invoke(0x2a, POST_ORDER, "hi".getBytes(StandardCharsets.UTF_8)),
                    ResultFrame.class, 0x2a);
            JsonNode event = tree(text(r));
            assertTimeConsistent(event.get("getRequestContext"), "getRequestTime",
                    "getRequestTimeEpoch");
            assertEquals(tree(resource("bound/http-rest.json")), event, text(r));
        }
    }

    @Test
    void httpApiEventFromHttp() {
        try (AgentProcess a = loaded("com.example.events.HttpApiDump")) {
            ResultFrame r = expect(a.invoke(0x2b, POST_ORDER, "hi".getBytes(StandardCharsets.UTF_8)),
                    ResultFrame.class, 0x2b);
            JsonNode event = tree(text(r));
            assertTimeConsistent(event.get("getRequestContext"), "getTime", "getTimeEpoch");
            assertEquals(tree(resource("bound/http-v2.json")), event, text(r));
        }
    }

    @Test
    void albEventFromHttp() {
        try (AgentProcess a = loaded("com.example.events.AlbDump")) {
            ResultFrame r = expect(a.invoke(0x2c, POST_ORDER, "hi".getBytes(StandardCharsets.UTF_8)),
                    ResultFrame.class, 0x2c);
            assertEquals(tree(resource("bound/http-alb.json")), tree(text(r)), text(r));
        }
    }

    @Test
    void binaryBodiesTravelAsBase64BothWays() {
        byte[] body = {(byte) 0xff, 0, (byte) 0x80, 'k'};
        try (AgentProcess a = loaded("com.example.events.RestApi")) {
            ResultFrame r = expect(a.invoke(3, "{\"http\":{\"method\":\"PUT\",\"path\":\"/echo\"}}",
                    body), ResultFrame.class, 3);
            assertEquals("{\"status\":200,\"headers\":[[\"Content-Type\","
                    + "\"application/octet-stream\"]]}", meta(r).get("http").toString());
            assertArrayEquals(body, r.body());
        }
    }

    @Test
    void httpApiHandlerOverHttp() {
        try (AgentProcess a = loaded("com.example.events.HttpApi")) {
            ResultFrame r = expect(a.invoke(4, "{\"http\":{\"method\":\"GET\",\"path\":\"/a%20b\","
                    + "\"query\":\"x=1&x=2\",\"headers\":[[\"Cookie\",\"c1=1; c2=2\"]]}}", new byte[0]),
                    ResultFrame.class, 4);
            assertEquals("{\"status\":202,\"headers\":[[\"Content-Type\",\"text/plain\"],"
                    + "[\"Set-Cookie\",\"session=s1; Path=/\"]]}", meta(r).get("http").toString());
            assertEquals("GET /a%20b [c1=1, c2=2] {x=1,2}", text(r));
        }
    }

    @Test
    void albHandlerOverHttp() {
        try (AgentProcess a = loaded("com.example.events.Alb")) {
            ResultFrame r = expect(a.invoke(5, "{\"http\":{\"method\":\"GET\",\"path\":\"/lambda\"}}",
                    new byte[0]), ResultFrame.class, 5);
            assertEquals("{\"status\":404,\"headers\":[[\"Content-Type\","
                    + "\"application/octet-stream\"]]}", meta(r).get("http").toString());
            assertEquals("no /lambda", text(r));
        }
    }

    @Test
    void responseEventWithoutHttpIsLambdasJson() {
        try (AgentProcess a = loaded("com.example.events.RestApi")) {
            ResultFrame r = expect(a.invoke(6, resource("apigateway-rest.json")), ResultFrame.class, 6);
            assertEquals("application/json", meta(r).get("contentType").asText());
            assertEquals(tree("{\"statusCode\":201,\"headers\":{\"Content-Type\":\"text/plain\","
                    + "\"X-Request-Id\":\"77375676-xmpl-4b79-853a-f982474efe18\"},"
                    + "\"multiValueHeaders\":{\"Set-Cookie\":[\"a=1\",\"b=2\"]},"
                    + "\"body\":\"GET / q=abc body=null\"}"), tree(text(r)));
        }
    }

    @Test
    void badEventJsonIsBadInput() {
        try (AgentProcess a = loaded("com.example.events.SqsDump")) {
            ErrorFrame e = expect(a.invoke(7, "{\"Records\":"), ErrorFrame.class, 7);
            assertEquals("bad_input", meta(e).get("code").asText());
            String message = meta(e).get("message").asText();
            assertEquals("input does not bind to "
                    + "com.amazonaws.services.lambda.runtime.events.SQSEvent: ",
                    message.substring(0, Math.min(message.length(), 78)), message);
        }
    }

    /** API Gateway's two request times agree; then they are dropped from the tree. */
    private static void assertTimeConsistent(JsonNode ctx, String text, String epoch) {
        java.time.Instant at = java.time.Instant.ofEpochMilli(ctx.get(epoch).asLong());
        assertEquals(java.time.format.DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z",
                        java.util.Locale.ENGLISH).withZone(java.time.ZoneOffset.UTC).format(at),
                ctx.get(text).asText());
        ((com.fasterxml.jackson.databind.node.ObjectNode) ctx).remove(List.of(text, epoch));
    }
}
