package io.kiln.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kiln.gateway.calls.Cidr;
import io.kiln.gateway.testing.TestServer;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Async calls on the durable queue, through the HTTP API on the process engine: idempotency keys,
 * the event policy at deploy and in describe, dead letters and their redrive, destinations.
 */
class GatewayQueueTest {

    private static final TestServer SERVER = TestServer.process("queue",
            // The onFailure receiver listens on loopback, which callbacks may reach only when allowed.
            c -> c.withCallbackAllow(List.of(Cidr.parse("127.0.0.1/32"))));
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Vertx vertx;
    private static HttpServer hook;
    private static final List<JsonNode> hooked = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        hook = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
            try {
                hooked.add(JSON.readTree(body.getBytes()));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            req.response().setStatusCode(204).end();
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        SERVER.ensure("echo", "com.example.Echo", "");
        SERVER.ensure("once", "com.example.Fails", "maxRetries=0&onFailure=http://127.0.0.1:" + hook.actualPort()
                + "/failed&onSuccess=function:nobody");
    }

    @AfterAll
    static void stop() {
        hook.close();
        vertx.close();
    }

    static JsonPath await(String callId) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            JsonPath p = SERVER.given().get("/v1/calls/" + callId).then().statusCode(200).extract().jsonPath();
            String state = p.getString("state");
            if (state.equals("succeeded") || state.equals("failed")) {
                return p;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("call " + callId + " did not end within 60 s");
    }

    @Test
    void anIdempotencyKeyMakesARepeatedSubmitTheFirstCall() throws Exception {
        Response first = SERVER.given().header("Idempotency-Key", "order-42").body("one").post("/async-function/echo");
        assertEquals(202, first.statusCode(), first::asString);
        String id = first.jsonPath().getString("callId");
        assertEquals(null, first.header("Idempotent-Replayed"));
        JsonPath done = await(id);
        Response again = SERVER.given().header("Idempotency-Key", "order-42").body("two").post("/async-function/echo");
        assertEquals(202, again.statusCode());
        assertEquals(id, again.jsonPath().getString("callId"));
        assertEquals("succeeded", again.jsonPath().getString("status"));
        assertEquals("true", again.header("Idempotent-Replayed"));
        assertEquals("one", new String(Base64.getDecoder().decode(done.getString("result.bodyBase64")),
                StandardCharsets.UTF_8));
        assertEquals(1, await(id).getInt("attempts"), "run once");
        assertEquals("order-42", done.getString("idempotencyKey"));

        SERVER.given().header("Idempotency-Key", "").body("x").post("/async-function/echo").then().statusCode(400)
                .body("error.message", equalTo("Idempotency-Key must be 1 to 255 visible ASCII characters"));
        SERVER.given().header("Idempotency-Key", "x".repeat(256)).body("x").post("/async-function/echo").then()
                .statusCode(400);
    }

    @Test
    void theEventPolicyIsSetAtDeployAndShownByDescribe() {
        JsonPath d = SERVER.given().get("/v1/functions/once").then().statusCode(200).extract().jsonPath();
        assertEquals(0, d.getInt("config.events.maxRetries"));
        assertEquals(1000, d.getInt("config.events.retryBackoffMs"));
        assertEquals(300_000, d.getInt("config.events.maxRetryBackoffMs"));
        assertEquals(21_600_000, d.getInt("config.events.maxEventAgeMs"));
        assertEquals("http://127.0.0.1:" + hook.actualPort() + "/failed", d.getString("config.events.onFailure"));
        assertEquals("function:nobody", d.getString("config.events.onSuccess"));
        JsonPath echo = SERVER.given().get("/v1/functions/echo").then().statusCode(200).extract().jsonPath();
        assertEquals(2, echo.getInt("config.events.maxRetries"));
        assertEquals(null, echo.getString("config.events.onFailure"));

        SERVER.deploy("bad", "com.example.Echo", "maxRetries=101").then().statusCode(400)
                .body("error.message", equalTo("maxRetries must be between 0 and 100, got 101"));
        SERVER.deploy("bad", "com.example.Echo", "onFailure=ftp://x").then().statusCode(400)
                .body("error.message", equalTo("onFailure must be function:NAME or an absolute http(s) URL, got"
                        + " \"ftp://x\""));
        SERVER.deploy("bad", "com.example.Echo", "onSuccess=function:Not_A_Name").then().statusCode(400);
        SERVER.deploy("bad", "com.example.Echo", "maxEventAge=15d").then().statusCode(400);
    }

    @Test
    void aDeadLetterKeepsItsInputAndAttemptsAndIsRedrivenByOneCall() throws Exception {
        String id = SERVER.given().body("throw:bad").post("/async-function/once").then().statusCode(202).extract()
                .jsonPath().getString("callId");
        JsonPath done = await(id);
        assertEquals("failed", done.getString("state"));
        assertEquals("function_error", done.getString("error.code"));
        assertEquals("bad (retries are off)", done.getString("error.message"));

        JsonPath dl = SERVER.given().get("/v1/functions/once/dead-letters").then().statusCode(200).extract()
                .jsonPath();
        List<Map<String, Object>> letters = dl.getList("deadLetters");
        Map<String, Object> mine = letters.stream().filter(m -> m.get("callId").equals(id)).findFirst().orElseThrow();
        assertEquals("throw:bad", new String(Base64.getDecoder().decode((String) mine.get("inputBase64")),
                StandardCharsets.UTF_8));
        assertEquals(1, ((List<?>) mine.get("attemptLog")).size());

        // The failure destination got the record, with its attempts.
        JsonNode record = awaitHook(id);
        assertEquals("failed", record.get("state").asText());
        assertEquals("function_error", record.get("attemptLog").get(0).get("error").get("code").asText());

        Response redriven = SERVER.given().contentType("application/json").body("{\"callIds\":[\"" + id + "\"]}")
                .post("/v1/functions/once/dead-letters/redrive");
        assertEquals(200, redriven.statusCode(), redriven::asString);
        assertEquals(1, redriven.jsonPath().getInt("redriven"));
        JsonPath again = await(id);
        assertEquals("failed", again.getString("state"));
        assertEquals(List.of("failed", "failed"), again.getList("attemptLog.outcome"), "history kept");
        SERVER.given().body("{\"callIds\":[\"zz\"]}").post("/v1/functions/once/dead-letters/redrive").then()
                .statusCode(400);
        SERVER.given().get("/v1/functions/once/dead-letters?limit=0").then().statusCode(400);
    }

    @Test
    void aSuccessDestinationIsADurableCallOfThatFunction() throws Exception {
        String id = SERVER.given().body("fine").post("/async-function/once").then().statusCode(202).extract()
                .jsonPath().getString("callId");
        assertEquals("succeeded", await(id).getString("state"));
        // function:nobody does not exist: its call is dead-lettered under its name, with the record as input.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        JsonNode record = null;
        while (record == null && System.nanoTime() < deadline) {
            for (Map<String, Object> m : SERVER.given().get("/v1/functions/nobody/dead-letters").then()
                    .statusCode(200).extract().jsonPath().<Map<String, Object>>getList("deadLetters")) {
                JsonNode r = JSON.readTree(Base64.getDecoder().decode((String) m.get("inputBase64")));
                if (r.get("callId").asText().equals(id)) {
                    record = r;
                    assertEquals("not_found", ((Map<?, ?>) m.get("error")).get("code"));
                    assertEquals("destination:" + id, m.get("source"));
                }
            }
            Thread.sleep(20);
        }
        assertNotNull(record, "no call of the destination carried the record");
        assertEquals("succeeded", record.get("state").asText());
        assertEquals("ok:fine", new String(Base64.getDecoder().decode(record.get("result").get("bodyBase64")
                .asText()), StandardCharsets.UTF_8));
    }

    private static JsonNode awaitHook(String callId) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (JsonNode n : hooked) {
                if (n.get("callId").asText().equals(callId)) {
                    return n;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no record of " + callId + " reached the destination; got " + hooked);
    }

    @Test
    void healthzAndMetricsShowTheQueue() throws Exception {
        JsonPath h = SERVER.given().get("/healthz").then().statusCode(200).extract().jsonPath();
        assertTrue(h.getString("queue.store").startsWith("SQLite "), h.prettify());
        assertEquals("local", h.getString("queue.node"));
        await(SERVER.given().body("m").post("/async-function/echo").then().statusCode(202).extract().jsonPath()
                .getString("callId"));
        String metrics = SERVER.anonymous().get("/metrics").then().statusCode(200).extract().asString();
        // Every series carries the node it comes from.
        for (String name : List.of("kiln_queue_items{node=\"local\",state=\"available\"}",
                "kiln_queue_items{node=\"local\",state=\"dead\"}", "kiln_queue_oldest_available_age_seconds{node=\"local\"}",
                "kiln_queue_attempts_total{node=\"local\",outcome=\"succeeded\"}",
                "kiln_queue_dead_letters_total{node=\"local\"}")) {
            assertTrue(metrics.contains(name), name + " is not in /metrics");
        }
    }
}
