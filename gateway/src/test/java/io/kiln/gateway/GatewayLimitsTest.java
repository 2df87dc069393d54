package io.kiln.gateway;

import io.kiln.agent.testing.Fixtures;
import io.kiln.gateway.testing.TestServer;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each limit, on process-engine servers with their own settings (none of these needs a VM):
 * body and jar size, header size, the rate limit, the request timeout, the invoker's queue.
 */
class GatewayLimitsTest {

    private static final long JAR_LIMIT = 2 * GatewayConfig.MIB;
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** Calls queue 1 deep, requests time out 200 ms after the function's timeout, jars up to 2 MiB. */
    private static TestServer limits() {
        TestServer s = TestServer.process("limits", c -> c
                .withInvoker(c.invoker().withQueue(1, Duration.ofSeconds(10)))
                .withRequestTimeoutGrace(Duration.ofMillis(200))
                .withMaxJarBytes(JAR_LIMIT));
        s.ensure("bytes", "com.example.Bytes", "");
        s.ensure("sleeper", "com.example.Sleeper", "timeout=2s&maxConcurrency=1&maxInstances=1");
        return s;
    }

    /** The rated server's clock: it moves only when a test moves it. */
    private static final AtomicLong RATE_CLOCK = new AtomicLong(1_000_000_000L);

    /** One call a second per function, at most two at once, by {@link #RATE_CLOCK}. */
    private static TestServer rated() {
        TestServer s = TestServer.process("rated", c -> c.withRateLimit(1, 2), RATE_CLOCK::get);
        s.ensure("upper", "com.example.Upper", "public=true");
        return s;
    }

    private static HttpResponse<String> send(TestServer s, HttpRequest.Builder b) throws Exception {
        return CLIENT.send(b.header("Authorization", "Bearer " + s.token()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static CompletableFuture<HttpResponse<String>> start(TestServer s, String function, String body) {
        return CLIENT.sendAsync(HttpRequest.newBuilder(URI.create(s.url() + "/function/" + function))
                .header("Authorization", "Bearer " + s.token())
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** How many times each oversized upload is sent: a reset instead of the 413 is a race, so once proves little. */
    private static final int OVERSIZED_TRIES = 20;

    @Test
    void aBodyOverTheLimitIs413DeclaredOrStreamedAndOneAtTheLimitPasses() throws Exception {
        TestServer s = limits();
        long limit = s.gateway().config().maxBodyBytes();
        assertEquals(6 * GatewayConfig.MIB, limit, "the default");
        byte[] over = new byte[(int) limit + 1];
        URI uri = URI.create(s.url() + "/function/bytes");
        String message = "the request body is larger than the limit of " + limit + " bytes";
        assertEveryTryIs413(s, uri, "POST", over, message);
        // Exactly the limit is fine.
        Response ok = s.given().body(new byte[(int) limit]).post("/function/bytes");
        assertEquals(200, ok.statusCode(), ok::asString);
        assertEquals(limit, ok.asByteArray().length);
    }

    @Test
    void aJarOverTheDeployLimitIs413() throws Exception {
        TestServer s = limits();
        byte[] jar = new byte[(int) JAR_LIMIT + 1];
        System.arraycopy(Fixtures.functions(), 0, jar, 0, 4); // a zip header, so only the size is wrong
        URI uri = URI.create(s.url() + "/v1/functions/toolarge?handler=com.example.Echo");
        String message = "the jar is larger than the limit of " + JAR_LIMIT + " bytes";
        assertEveryTryIs413(s, uri, "PUT", jar, message);
        s.given().get("/v1/functions/toolarge").then().statusCode(404);
    }

    /**
     * Sends {@code body} {@link #OVERSIZED_TRIES} times declared by Content-Length (refused before
     * a byte of it is read) and as many times chunked, with no length (refused when the count
     * passes the limit): every answer is the whole 413.
     */
    private static void assertEveryTryIs413(TestServer s, URI uri, String method, byte[] body, String message)
            throws Exception {
        for (int i = 0; i < OVERSIZED_TRIES; i++) {
            assertTooLarge(send(s, HttpRequest.newBuilder(uri).method(method,
                    HttpRequest.BodyPublishers.ofByteArray(body))), message, "declared, try " + i);
            assertTooLarge(send(s, HttpRequest.newBuilder(uri).method(method,
                    HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)))),
                    message, "streamed, try " + i);
        }
    }

    /** The whole 413 answer arrived, with the error that says why. */
    private static void assertTooLarge(HttpResponse<String> r, String message, String what) {
        assertEquals(413, r.statusCode(), () -> what + ": " + r.body());
        assertEquals("{\"error\":{\"code\":\"payload_too_large\",\"message\":\"" + message + "\"}}", r.body(), what);
    }

    @Test
    void headersOverTheLimitAre431InJson() {
        TestServer s = limits();
        Response r = s.given().header("X-Big", "a".repeat(9000)).get("/healthz");
        assertEquals(431, r.statusCode());
        assertEquals("header_too_large", r.jsonPath().getString("error.code"));
        s.given().header("X-Big", "a".repeat(6000)).get("/healthz").then().statusCode(200);
    }

    @Test
    void overTheRateLimitIs429WithRetryAfter() throws Exception {
        TestServer s = rated();
        RATE_CLOCK.addAndGet(TimeUnit.SECONDS.toNanos(3)); // a full bucket, whatever ran before
        s.anonymous().body("a").post("/function/upper").then().statusCode(200);
        s.anonymous().body("b").post("/function/upper").then().statusCode(200);
        Response third = s.anonymous().body("c").post("/function/upper");
        assertEquals(429, third.statusCode(), third::asString);
        assertEquals("rate_limited", third.jsonPath().getString("error.code"));
        assertEquals("1", third.header("Retry-After"));
        s.given().body("d").post("/async-function/upper").then().statusCode(429)
                .body("error.code", equalTo("rate_limited"));
        RATE_CLOCK.addAndGet(TimeUnit.MILLISECONDS.toNanos(999));
        s.anonymous().body("e").post("/function/upper").then().statusCode(429); // not quite a token yet
        RATE_CLOCK.addAndGet(TimeUnit.MILLISECONDS.toNanos(1)); // one token back at 1 a second
        s.anonymous().body("e").post("/function/upper").then().statusCode(200).body(equalTo("E"));
    }

    @Test
    void aCallStillUnansweredAfterItsTimeoutPlusGraceIs504() throws Exception {
        TestServer s = limits();
        // The first call holds the only instance for 1.5 s; the second waits for it, then sleeps
        // 1.5 s too: 3 s in all, past its 2 s timeout + 0.2 s grace, though each call is within 2 s.
        awaitIdle(s);
        CompletableFuture<HttpResponse<String>> first = start(s, "sleeper", "sleep 1500");
        awaitState(s, "sleeper", "inFlight", 1);
        HttpResponse<String> second = start(s, "sleeper", "sleep 1500").get(30, TimeUnit.SECONDS);
        assertEquals(504, second.statusCode(), second::body);
        assertTrue(second.body().contains("\"code\":\"gateway_timeout\""), second::body);
        assertTrue(second.headers().firstValue("X-Kiln-Call-Id").isPresent());
        assertEquals(200, first.get(30, TimeUnit.SECONDS).statusCode());
        awaitIdle(s); // the timed-out call is not cancelled: it still runs its 1.5 s
    }

    @Test
    void aFullQueueIs429WithRetryAfterFromTheInvoker() throws Exception {
        TestServer s = limits();
        awaitIdle(s);
        CompletableFuture<HttpResponse<String>> running = start(s, "sleeper", "sleep 1500");
        awaitState(s, "sleeper", "inFlight", 1);
        CompletableFuture<HttpResponse<String>> waiting = start(s, "sleeper", "sleep 10");
        awaitState(s, "sleeper", "queued", 1);
        HttpResponse<String> refused = start(s, "sleeper", "sleep 10").get(30, TimeUnit.SECONDS);
        assertEquals(429, refused.statusCode(), refused::body);
        assertTrue(refused.body().contains("\"code\":\"too_many_requests\""), refused::body);
        assertEquals("1", refused.headers().firstValue("Retry-After").orElse(""));
        assertEquals(200, running.get(30, TimeUnit.SECONDS).statusCode());
        assertEquals(200, waiting.get(30, TimeUnit.SECONDS).statusCode());
    }

    private static void awaitIdle(TestServer s) throws InterruptedException {
        awaitState(s, "sleeper", "inFlight", 0);
        awaitState(s, "sleeper", "queued", 0);
    }

    private static void awaitState(TestServer s, String function, String field, int value) throws InterruptedException {
        IntSupplier now = () -> s.given().get("/v1/functions/" + function).jsonPath().getInt("state." + field);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (now.getAsInt() != value) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(function + " state." + field + " never became " + value);
            }
            Thread.sleep(10);
        }
    }
}
