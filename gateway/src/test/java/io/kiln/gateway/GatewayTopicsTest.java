package io.kiln.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kiln.agent.testing.Fixtures;
import io.kiln.gateway.testing.TestServer;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Topics through the HTTP API on the process engine: CloudEvents in both HTTP modes, fan-out
 * with filters, the 400s of bad events, and SQS-shaped batches with partial failures.
 */
class GatewayTopicsTest {

    private static final TestServer SERVER = TestServer.process("topics", c -> c);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String STRUCTURED = "application/cloudevents+json";

    @BeforeAll
    static void deploy() {
        SERVER.ensure("orders-all", "com.example.Echo", "");
        SERVER.ensure("orders-cancelled", "com.example.Echo", "");
        // A batch that fails does so for good on its first attempt: the dead letter shows it.
        SERVER.ensure("sqs-echo", "com.example.Echo", "maxRetries=0");
        Response r = SERVER.given().contentType("application/java-archive").body(Fixtures.events())
                .put("/v1/functions/sqs-batch?handler=com.example.events.SqsBatch&memory=" + TestServer.MEMORY_MIB
                        + "&maxRetries=1&retryBackoff=10ms");
        assertTrue(r.statusCode() / 100 == 2, r::asString);
    }

    static void subscribe(String topic, String name, String body, int status) {
        SERVER.given().contentType("application/json").body(body)
                .put("/v1/topics/" + topic + "/subscriptions/" + name).then().statusCode(status);
    }

    static String structured(String id, String type, String extra) {
        return "{\"specversion\":\"1.0\",\"id\":\"" + id + "\",\"source\":\"/shop\",\"type\":\"" + type + "\""
                + extra + "}";
    }

    static JsonNode publish(RequestSpecification request, String topic) throws Exception {
        Response r = request.post("/v1/topics/" + topic);
        assertEquals(202, r.statusCode(), r::asString);
        return JSON.readTree(r.asString());
    }

    static JsonNode call(String callId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            JsonNode c = JSON.readTree(SERVER.given().get("/v1/calls/" + callId).then().statusCode(200).extract()
                    .asString());
            String state = c.get("state").asText();
            if (state.equals("succeeded") || state.equals("failed")) {
                return c;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("call " + callId + " did not end within 60 s");
    }

    /** What Echo got: its result's body. */
    static String echoed(JsonNode call) {
        assertEquals("succeeded", call.get("state").asText(), call::toString);
        return new String(Base64.getDecoder().decode(call.get("result").get("bodyBase64").asText()),
                StandardCharsets.UTF_8);
    }

    static List<String> callIds(JsonNode published) {
        List<String> out = new ArrayList<>();
        published.get("callIds").forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void eachSubscriptionGetsExactlyTheEventsItsFilterMatches() throws Exception {
        subscribe("orders", "record-all", "{\"function\":\"orders-all\"}", 201);
        subscribe("orders", "refunds", "{\"function\":\"orders-cancelled\",\"filters\":{\"type\":\"order.cancelled\","
                + "\"subject\":{\"prefix\":\"eu/\"}}}", 201);
        // PUT again: the same subscription, replaced (200), not a second one.
        subscribe("orders", "refunds", "{\"function\":\"orders-cancelled\",\"filters\":{\"type\":\"order.cancelled\","
                + "\"subject\":{\"prefix\":\"eu/\"}}}", 200);

        String created = structured("o-1", "order.created", ",\"subject\":\"eu/1\",\"data\":{\"order\":1}");
        JsonNode p1 = publish(SERVER.given().contentType(STRUCTURED).body(created), "orders");
        assertEquals(1, p1.get("deliveries").asInt());
        assertEquals("o-1", p1.get("eventId").asText());
        assertEquals("orders", p1.get("topic").asText());

        JsonNode p2 = publish(SERVER.given().contentType(STRUCTURED).body(structured("o-2", "order.cancelled",
                ",\"subject\":\"eu/2\",\"data\":{\"order\":2}")), "orders");
        assertEquals(2, p2.get("deliveries").asInt());
        JsonNode p3 = publish(SERVER.given().contentType(STRUCTURED).body(structured("o-3", "order.cancelled",
                ",\"subject\":\"us/3\",\"data\":{\"order\":3}")), "orders");
        assertEquals(1, p3.get("deliveries").asInt(), "us/3 lacks the eu/ prefix");

        List<String> all = new ArrayList<>();
        List<String> cancelled = new ArrayList<>();
        for (JsonNode p : List.of(p1, p2, p3)) {
            for (String id : callIds(p)) {
                JsonNode c = call(id);
                assertTrue(c.get("source").asText().startsWith("topic:"), c::toString);
                (c.get("function").asText().equals("orders-all") ? all : cancelled).add(echoed(c));
            }
        }
        assertEquals(List.of("{\"specversion\":\"1.0\",\"id\":\"o-1\",\"source\":\"/shop\",\"type\":\"order.created\","
                        + "\"subject\":\"eu/1\",\"data\":{\"order\":1}}",
                "{\"specversion\":\"1.0\",\"id\":\"o-2\",\"source\":\"/shop\",\"type\":\"order.cancelled\","
                        + "\"subject\":\"eu/2\",\"data\":{\"order\":2}}",
                "{\"specversion\":\"1.0\",\"id\":\"o-3\",\"source\":\"/shop\",\"type\":\"order.cancelled\","
                        + "\"subject\":\"us/3\",\"data\":{\"order\":3}}"), all);
        assertEquals(List.of("{\"specversion\":\"1.0\",\"id\":\"o-2\",\"source\":\"/shop\",\"type\":\"order.cancelled\","
                + "\"subject\":\"eu/2\",\"data\":{\"order\":2}}"), cancelled);

        JsonNode topics = JSON.readTree(SERVER.given().get("/v1/topics").then().statusCode(200).extract().asString());
        JsonNode orders = null;
        for (JsonNode t : topics.get("topics")) {
            if (t.get("topic").asText().equals("orders")) {
                orders = t;
            }
        }
        assertEquals(2, orders.get("subscriptions").size(), orders::toString);
        JsonNode refunds = orders.get("subscriptions").get(1);
        assertEquals("refunds", refunds.get("name").asText());
        assertEquals("{\"type\":\"order.cancelled\",\"subject\":{\"prefix\":\"eu/\"}}",
                refunds.get("filters").toString());
        assertEquals("plain", refunds.get("shape").asText());

        // Deleted: it receives nothing more.
        JsonNode deleted = JSON.readTree(SERVER.given().delete("/v1/topics/orders/subscriptions/refunds").then()
                .statusCode(200).extract().asString());
        assertEquals("{\"topic\":\"orders\",\"name\":\"refunds\",\"deleted\":true,\"cancelledDeliveries\":0}",
                deleted.toString());
        assertEquals(1, publish(SERVER.given().contentType(STRUCTURED).body(structured("o-4", "order.cancelled",
                ",\"subject\":\"eu/4\"")), "orders").get("deliveries").asInt());
        SERVER.given().delete("/v1/topics/orders/subscriptions/refunds").then().statusCode(404);
    }

    @Test
    void binaryAndStructuredModeDeliverTheSameEvent() throws Exception {
        subscribe("modes", "echo", "{\"function\":\"orders-all\"}", 201);
        JsonNode s = publish(SERVER.given().contentType(STRUCTURED).body(structured("m-1", "order.created",
                ",\"subject\":\"eu/1\",\"time\":\"2026-11-30T12:00:00Z\",\"region\":\"eu\",\"datacontenttype\":"
                        + "\"application/json\",\"data\":{\"order\":1,\"total\":34.00,\"big\":123456789012345678901.50,"
                        + "\"items\":[\"a\"]}")), "modes");
        JsonNode b = publish(SERVER.given().header("ce-specversion", "1.0").header("ce-id", "m-1")
                .header("ce-source", "/shop").header("CE-Type", "order.created").header("ce-subject", "eu%2F1")
                .header("ce-time", "2026-11-30T12:00:00Z").header("ce-region", "eu")
                .contentType("application/json").body("{ \"order\": 1, \"total\": 34.00, \"big\":"
                        + " 123456789012345678901.50, \"items\": [\"a\"] }"), "modes");
        String expected = "{\"specversion\":\"1.0\",\"id\":\"m-1\",\"source\":\"/shop\",\"type\":\"order.created\","
                + "\"subject\":\"eu/1\",\"time\":\"2026-11-30T12:00:00Z\",\"datacontenttype\":\"application/json\","
                + "\"region\":\"eu\",\"data\":{\"order\":1,\"total\":34.00,\"big\":123456789012345678901.50,"
                + "\"items\":[\"a\"]}}";
        assertEquals(expected, echoed(call(callIds(s).get(0))));
        assertEquals(expected, echoed(call(callIds(b).get(0))));

        // Text data: a string in structured mode, the body in binary mode; binary data as data_base64.
        JsonNode text = publish(SERVER.given().header("ce-specversion", "1.0").header("ce-id", "m-2")
                .header("ce-source", "/shop").header("ce-type", "note").contentType("text/plain").body("hi"), "modes");
        assertEquals("{\"specversion\":\"1.0\",\"id\":\"m-2\",\"source\":\"/shop\",\"type\":\"note\","
                + "\"datacontenttype\":\"text/plain\",\"data\":\"hi\"}", echoed(call(callIds(text).get(0))));
        JsonNode bin = publish(SERVER.given().header("ce-specversion", "1.0").header("ce-id", "m-3")
                .header("ce-source", "/shop").header("ce-type", "blob").contentType("application/octet-stream")
                .body(new byte[]{0, (byte) 0xff}), "modes");
        assertEquals("{\"specversion\":\"1.0\",\"id\":\"m-3\",\"source\":\"/shop\",\"type\":\"blob\","
                + "\"datacontenttype\":\"application/octet-stream\",\"data_base64\":\"AP8=\"}",
                echoed(call(callIds(bin).get(0))));
    }

    static void rejected(RequestSpecification request, int status, String code, String message) {
        Response r = request.post("/v1/topics/bad");
        assertEquals(status, r.statusCode(), r::asString);
        assertEquals(code, r.jsonPath().getString("error.code"), r::asString);
        assertEquals(message, r.jsonPath().getString("error.message"));
    }

    @Test
    void badEventsAreRefusedWithWhatIsWrong() {
        rejected(SERVER.given().contentType("application/json").body("{}"), 400, "bad_event",
                "not a CloudEvent: send Content-Type: application/cloudevents+json with the event as JSON (structured"
                        + " mode), or the ce-specversion, ce-id, ce-source and ce-type headers with the data as the"
                        + " body (binary mode)");
        rejected(SERVER.given().contentType(STRUCTURED).body("{\"specversion\":\"0.3\",\"id\":\"1\",\"source\":\"/s\","
                + "\"type\":\"t\"}"), 400, "bad_event", "specversion must be \"1.0\" in the JSON event, got \"0.3\"");
        rejected(SERVER.given().contentType(STRUCTURED).body("{\"specversion\":\"1.0\",\"source\":\"/s\",\"type\":"
                + "\"t\"}"), 400, "bad_event", "the event lacks the required attribute \"id\" in the JSON event");
        rejected(SERVER.given().contentType(STRUCTURED).body(structured("1", "", "")), 400, "bad_event",
                "\"type\" must not be empty in the JSON event");
        rejected(SERVER.given().contentType(STRUCTURED).body(structured("1", "t", ",\"data\":1,\"data_base64\":\"AA==\"")),
                400, "bad_event", "an event has \"data\" or \"data_base64\", not both");
        rejected(SERVER.given().contentType(STRUCTURED).body(structured("1", "t", ",\"time\":\"yesterday\"")), 400,
                "bad_event", "\"time\" must be an RFC 3339 timestamp like 2026-11-30T12:00:00Z in the JSON event, got"
                        + " \"yesterday\"");
        rejected(SERVER.given().contentType(STRUCTURED).body(structured("1", "t", ",\"Region\":\"eu\"")), 400,
                "bad_event", "\"Region\" does not name a CloudEvents attribute: names are lower-case letters a-z and"
                        + " digits");
        rejected(SERVER.given().contentType(STRUCTURED).body("[1]"), 400, "bad_event",
                "structured mode takes the event as a JSON object");
        rejected(SERVER.given().contentType("application/cloudevents-batch+json").body("[]"), 400, "bad_event",
                "batched mode (application/cloudevents-batch+json) is not supported: publish one event per request");
        rejected(SERVER.given().header("ce-specversion", "1.0").header("ce-id", "1").header("ce-type", "t")
                .body("x"), 400, "bad_event", "the event lacks the required attribute \"source\" (binary mode: the"
                + " ce-source header)");
        rejected(SERVER.given().header("ce-specversion", "1.0").header("ce-id", "1").header("ce-source", "/s")
                .header("ce-type", "t").contentType("application/json").body("{oops"), 400, "bad_event",
                "the body, whose Content-Type is application/json, is not valid JSON");
        Response badTopic = SERVER.given().contentType(STRUCTURED).body(structured("1", "t", ""))
                .post("/v1/topics/-x");
        assertEquals(400, badTopic.statusCode());
        assertEquals("a topic name is 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit;"
                + " got \"-x\"", badTopic.jsonPath().getString("error.message"));
        SERVER.anonymous().contentType(STRUCTURED).body(structured("1", "t", "")).post("/v1/topics/bad").then()
                .statusCode(401);
    }

    @Test
    void badSubscriptionsAreRefused() {
        String[][] cases = {
                {"{}", "400", "a subscription needs \"function\": the name of the function to call"},
                {"{\"function\":\"nobody\"}", "404", "no function named nobody"},
                {"{\"function\":\"orders-all\",\"shape\":\"kafka\"}", "400", "shape must be plain or sqs, got \"kafka\""},
                {"{\"function\":\"orders-all\",\"batchSize\":3}", "400", "batchSize and batchWindow are only for shape sqs"},
                {"{\"function\":\"orders-all\",\"shape\":\"sqs\",\"batchSize\":11}", "400",
                        "batchSize must be between 1 and 10, got 11"},
                {"{\"function\":\"orders-all\",\"filters\":{\"type\":{\"suffix\":\"x\"}}}", "400",
                        "the filter on type must be a string (an exact value) or {\"prefix\": \"...\"}"},
                {"{\"function\":\"orders-all\",\"filters\":{\"Type\":\"x\"}}", "400",
                        "a filter's attribute is a CloudEvents attribute name (lower-case letters and digits; not"
                                + " specversion or data), got \"Type\""},
                {"{\"function\":\"orders-all\",\"filter\":{}}", "400",
                        "unknown field \"filter\"; a subscription has function, filters, shape, batchSize and batchWindow"},
        };
        for (String[] c : cases) {
            Response r = SERVER.given().contentType("application/json").body(c[0])
                    .put("/v1/topics/t/subscriptions/s");
            assertEquals(Integer.parseInt(c[1]), r.statusCode(), r::asString);
            assertEquals(c[2], r.jsonPath().getString("error.message"));
        }
    }

    @Test
    void anSqsBatchRetriesOnlyTheRecordsItsHandlerReportsFailed() throws Exception {
        // A full batch runs at once: the 5 minute window only makes sure all three share it.
        subscribe("jobs", "batch", "{\"function\":\"sqs-batch\",\"shape\":\"sqs\",\"batchSize\":3,"
                + "\"batchWindow\":\"5m\"}", 201);
        List<String> ids = new ArrayList<>();
        for (String body : List.of("ok", "bad", "ok")) {
            ids.addAll(callIds(publish(SERVER.given().header("ce-specversion", "1.0").header("ce-id", "j-" + body)
                    .header("ce-source", "/jobs").header("ce-type", "job").contentType("text/plain").body(body),
                    "jobs")));
        }
        assertEquals(3, ids.size());
        assertEquals(1, ids.stream().distinct().count(), "one batch: " + ids);
        JsonNode dead = awaitDeadLetter("sqs-batch", ids.get(0));
        assertEquals("failed", dead.get("state").asText());

        JsonNode retried = JSON.readTree(Base64.getDecoder().decode(dead.get("inputBase64").asText()));
        JsonNode records = retried.get("Records");
        assertEquals(1, records.size(), "only the failed record was retried: " + retried);
        JsonNode bad = records.get(0);
        assertEquals("bad", bad.get("body").asText());
        assertEquals("2", bad.get("attributes").get("ApproximateReceiveCount").asText());
        assertEquals("arn:kiln:sqs:local:0:jobs", bad.get("eventSourceARN").asText());
        String badId = bad.get("messageId").asText();

        JsonNode log = dead.get("attemptLog");
        assertEquals(2, log.size(), log::toString);
        assertEquals("failed", log.get(0).get("outcome").asText());
        assertEquals("partial_batch_failure", log.get(0).get("error").get("code").asText());
        assertEquals("1 of 3 records failed: " + badId + "; only they are retried",
                log.get(0).get("error").get("message").asText());
        assertEquals("partial_batch_failure", log.get(1).get("error").get("code").asText());
        assertEquals("all 1 records failed: " + badId, log.get(1).get("error").get("message").asText());
    }

    @Test
    void aMalformedBatchResponseFailsTheWholeBatch() throws Exception {
        // Echo answers with the batch itself: {"Records": [...]} is not an SQSBatchResponse.
        subscribe("echoes", "batch", "{\"function\":\"sqs-echo\",\"shape\":\"sqs\",\"batchSize\":2,"
                + "\"batchWindow\":\"5m\"}", 201);
        List<String> ids = new ArrayList<>();
        for (String body : List.of("a", "b")) {
            ids.addAll(callIds(publish(SERVER.given().header("ce-specversion", "1.0").header("ce-id", "e-" + body)
                    .header("ce-source", "/e").header("ce-type", "e").contentType("text/plain").body(body), "echoes")));
        }
        assertEquals(1, ids.stream().distinct().count(), "one batch: " + ids);
        JsonNode dead = awaitDeadLetter("sqs-echo", ids.get(0));
        JsonNode records = JSON.readTree(Base64.getDecoder().decode(dead.get("inputBase64").asText())).get("Records");
        assertEquals(2, records.size(), "the whole batch failed");
        assertEquals("bad_batch_response", dead.get("error").get("code").asText());
        assertEquals("the reply is not a valid SQSBatchResponse (it has \"Records\"; a response has only"
                + " batchItemFailures), so the whole batch of 2 records failed (retries are off)",
                dead.get("error").get("message").asText());
    }

    static JsonNode awaitDeadLetter(String function, String callId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            JsonNode list = JSON.readTree(SERVER.given().get("/v1/functions/" + function + "/dead-letters").then()
                    .statusCode(200).extract().asString());
            for (JsonNode d : list.get("deadLetters")) {
                if (d.get("callId").asText().equals(callId)) {
                    return d;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("call " + callId + " of " + function + " was not dead-lettered within 60 s: "
                + SERVER.given().get("/v1/calls/" + callId).asString());
    }
}
