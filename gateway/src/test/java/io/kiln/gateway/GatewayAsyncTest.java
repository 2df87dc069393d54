package io.kiln.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The async trigger on the real engine: 202, the call's record, callbacks. */
class GatewayAsyncTest {

    private static final TestServer SERVER = TestServer.vm();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Vertx vertx;

    @BeforeAll
    static void deploy() {
        SERVER.ensure("greeter", "com.example.Greeter", "");
        // One retry, soon: the failure test sees both attempts without waiting out the default backoff.
        SERVER.ensure("fails", "com.example.Fails", "maxRetries=1&retryBackoff=50ms");
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void close() {
        vertx.close();
    }

    /** Polls the call's record until it has ended. */
    private static JsonPath await(String statusUrl) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        List<String> seen = new CopyOnWriteArrayList<>();
        while (System.nanoTime() < deadline) {
            JsonPath p = SERVER.given().get(statusUrl).then().statusCode(200).extract().jsonPath();
            String state = p.getString("state");
            seen.add(state);
            if (state.equals("succeeded") || state.equals("failed")) {
                return p;
            }
            assertTrue(state.equals("queued") || state.equals("running") || state.equals("retrying"), state);
            Thread.sleep(50);
        }
        throw new AssertionError("the call did not end within 60 s; states seen " + seen);
    }

    @Test
    void acceptedThenSucceededWithTheResult() throws InterruptedException {
        Response r = SERVER.given().contentType("application/json").body("{\"name\":\"Ada\",\"age\":36}")
                .post("/async-function/greeter");
        assertEquals(202, r.statusCode(), r::asString);
        String id = r.jsonPath().getString("callId");
        assertTrue(id.matches("[0-9a-f]{16}"), id);
        assertEquals("queued", r.jsonPath().getString("status"));
        assertEquals("/v1/calls/" + id, r.jsonPath().getString("statusUrl"));
        assertEquals("/v1/calls/" + id, r.header("Location"));
        assertEquals(id, r.header("X-Kiln-Call-Id"));

        JsonPath done = await("/v1/calls/" + id);
        assertEquals("succeeded", done.getString("state"), done::prettify);
        assertEquals(id, done.getString("callId"));
        assertEquals("greeter", done.getString("function"));
        assertEquals(200, done.getInt("result.status"));
        assertEquals("application/json", done.getString("result.contentType"));
        assertEquals(List.of(List.of("Content-Type", "application/json")), done.getList("result.headers"));
        assertEquals("{\"message\":\"Hello, Ada\",\"adult\":true}", new String(
                Base64.getDecoder().decode(done.getString("result.bodyBase64")), StandardCharsets.UTF_8));
    }

    @Test
    void aFailingCallEndsFailedWithTheError() throws InterruptedException {
        String id = SERVER.given().body("throw:nope").post("/async-function/fails").then().statusCode(202)
                .extract().jsonPath().getString("callId");
        JsonPath done = await("/v1/calls/" + id);
        assertEquals("failed", done.getString("state"));
        assertEquals("function_error", done.getString("error.code"));
        assertEquals("java.lang.IllegalArgumentException", done.getString("error.type"));
        assertEquals(id, done.getString("error.callId"));
        assertEquals(2, done.getInt("attempts"), "the first attempt and its one retry");
        assertEquals(List.of("failed", "failed"), done.getList("attemptLog.outcome"));
        assertEquals(List.of("function_error", "function_error"), done.getList("attemptLog.error.code"));
        GatewayHttpMappingTest.assertNoStack(done.prettify());
    }

    @Test
    void unknownCallsAndFunctionsAndBadIds() {
        SERVER.given().get("/v1/calls/0123456789abcdef").then().statusCode(404).body("error.code", equalTo("not_found"));
        SERVER.given().get("/v1/calls/0123").then().statusCode(400).body("error.code", equalTo("bad_request"));
        SERVER.anonymous().get("/v1/calls/0123456789abcdef").then().statusCode(401);
        SERVER.given().body("x").post("/async-function/nobody").then().statusCode(404);
        SERVER.given().header("X-Kiln-Callback", "ftp://example.com/x").body("x").post("/async-function/fails")
                .then().statusCode(400).body("error.code", equalTo("bad_request"));
    }

    @Test
    void theCallbackGetsTheRecordAndIsRetried() throws Exception {
        List<JsonNode> received = new CopyOnWriteArrayList<>();
        AtomicInteger attempts = new AtomicInteger();
        HttpServer hook = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
            if (attempts.incrementAndGet() == 1) {
                req.response().setStatusCode(500).end(); // the first attempt fails: the gateway tries again
                return;
            }
            try {
                received.add(JSON.readTree(body.getBytes()));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            req.response().setStatusCode(204).end();
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        try {
            String url = "http://127.0.0.1:" + hook.actualPort() + "/done";
            String id = SERVER.given().header("X-Kiln-Callback", url).body("{\"name\":\"Cy\",\"age\":70}")
                    .post("/async-function/greeter").then().statusCode(202).extract().jsonPath().getString("callId");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (received.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(1, received.size(), "one delivered callback");
            assertEquals(2, attempts.get(), "after one failed attempt");
            JsonNode r = received.get(0);
            assertEquals(id, r.get("callId").asText());
            assertEquals("succeeded", r.get("state").asText());
            assertEquals(200, r.get("result").get("status").asInt());
            // A callback needs the token, even for a public function.
            SERVER.anonymous().header("X-Kiln-Callback", url).body("x").post("/async-function/greeter").then()
                    .statusCode(401);
        } finally {
            hook.close();
        }
    }
}
