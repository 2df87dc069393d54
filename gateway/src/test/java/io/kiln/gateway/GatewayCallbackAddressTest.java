package io.kiln.gateway;

import io.kiln.agent.testing.Fixtures;
import io.kiln.gateway.calls.Cidr;
import io.kiln.gateway.testing.TestServer;
import io.restassured.RestAssured;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Callbacks and URL destinations cannot reach internal addresses unless the operator's
 * {@code --callback-allow} names them: refused with 400 callback_forbidden before anything is
 * queued or deployed. (Names resolving inside, and a name rebound between submit and send, are
 * in {@link io.kiln.gateway.calls.CallbackTargetsTest}, where the test owns the resolver's hosts file.)
 */
class GatewayCallbackAddressTest {

    /** The defaults: no allow-list. */
    private static final TestServer CLOSED = TestServer.process("callbacks-closed", c -> c);
    /** Loopback's 127.0.0.1 alone opened. */
    private static final TestServer OPEN = TestServer.process("callbacks-open",
            c -> c.withCallbackAllow(List.of(Cidr.parse("127.0.0.1/32"))));
    private static Vertx vertx;
    private static HttpServer receiver;
    private static final List<String> received = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        receiver = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
            received.add(req.path() + " " + body.toString());
            req.response().setStatusCode(204).end();
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        CLOSED.ensure("echo", "com.example.Echo", "");
        OPEN.ensure("echo", "com.example.Echo", "");
    }

    @AfterAll
    static void stop() {
        receiver.close();
        vertx.close();
    }

    private static void refused(TestServer server, String url, String message) {
        server.given().header("X-Kiln-Callback", url).body("x").post("/async-function/echo").then()
                .statusCode(400).body("error.code", equalTo("callback_forbidden"))
                .body("error.message", message.endsWith("…") ? startsWith(message.substring(0, message.length() - 1))
                        : equalTo(message));
    }

    @Test
    void internalCallbacksAreRefusedAtSubmit() {
        int port = receiver.actualPort();
        String tail = "; the gateway does not send callbacks into internal networks. An operator can open it with"
                + " --callback-allow ";
        refused(CLOSED, "http://127.0.0.1:" + port + "/done", "X-Kiln-Callback http://127.0.0.1:" + port
                + "/done is 127.0.0.1, which is loopback (127/8)" + tail + "127.0.0.1/32 (or its range)");
        refused(CLOSED, "http://169.254.169.254/latest/meta-data/", "X-Kiln-Callback"
                + " http://169.254.169.254/latest/meta-data/ is 169.254.169.254, which is link-local: the cloud"
                + " metadata service" + tail + "169.254.169.254/32 (or its range)");
        refused(CLOSED, "http://[::1]/", "X-Kiln-Callback http://[::1]/ is ::1, which is loopback (::1)" + tail
                + "::1/128 (or its range)");
        refused(CLOSED, "http://[::ffff:10.0.0.1]/", "X-Kiln-Callback http://[::ffff:10.0.0.1]/ is 10.0.0.1, which is"
                + " private (10/8)" + tail + "10.0.0.1/32 (or its range)");
        // A name: resolved by the gateway (from the host's hosts file), every address checked.
        refused(CLOSED, "http://localhost:" + port + "/done", "X-Kiln-Callback http://localhost:" + port
                + "/done resolves to …");
        // The allow-list opens exactly what it names.
        refused(OPEN, "http://169.254.169.254/latest/meta-data/", "X-Kiln-Callback"
                + " http://169.254.169.254/latest/meta-data/ is 169.254.169.254, which is link-local: the cloud"
                + " metadata service" + tail + "169.254.169.254/32 (or its range)");
        refused(OPEN, "http://127.0.0.2:" + port + "/", "X-Kiln-Callback http://127.0.0.2:" + port
                + "/ is 127.0.0.2, which is loopback (127/8)" + tail + "127.0.0.2/32 (or its range)");
        // Not a URL at all is still the plain 400.
        CLOSED.given().header("X-Kiln-Callback", "ftp://example.com/x").body("x").post("/async-function/echo").then()
                .statusCode(400).body("error.code", equalTo("bad_request"));
        assertEquals(List.of(), received.stream().filter(r -> r.startsWith("/done ")).toList(), "nothing was sent");
    }

    @Test
    void internalUrlDestinationsAreRefusedAtDeploy() {
        CLOSED.deploy("dest", "com.example.Echo", "onFailure=http://10.0.0.1/x").then().statusCode(400)
                .body("error.code", equalTo("callback_forbidden"))
                .body("error.message", equalTo("onFailure http://10.0.0.1/x is 10.0.0.1, which is private (10/8);"
                        + " the gateway does not send callbacks into internal networks. An operator can open it"
                        + " with --callback-allow 10.0.0.1/32 (or its range)"));
        CLOSED.deploy("dest", "com.example.Echo", "onSuccess=http://169.254.169.254/").then().statusCode(400)
                .body("error.code", equalTo("callback_forbidden"));
        CLOSED.given().get("/v1/functions/dest").then().statusCode(404);
    }

    @Test
    void anAllowedLoopbackReceiverGetsTheCallback() throws Exception {
        String url = "http://127.0.0.1:" + receiver.actualPort() + "/allowed";
        String id = OPEN.given().header("X-Kiln-Callback", url).body("hello").post("/async-function/echo").then()
                .statusCode(202).extract().jsonPath().getString("callId");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (received.stream().noneMatch(r -> r.startsWith("/allowed ")) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        List<String> mine = received.stream().filter(r -> r.startsWith("/allowed ")).toList();
        assertEquals(1, mine.size(), "one delivered callback: " + received);
        assertEquals(true, mine.get(0).contains("\"callId\":\"" + id + "\""), mine.get(0));
        assertEquals(true, mine.get(0).contains("\"state\":\"succeeded\""), mine.get(0));
    }

    /**
     * What was allowed at submit is checked again at the send: a gateway restarted without the
     * allow-list refuses the pending callback for good (dead-lettered at once as
     * callback_forbidden), where an unreachable receiver would be retried.
     */
    @Test
    void aSendRefusedAtSendTimeIsDeadAtOnce() throws Exception {
        Path data = Path.of(System.getProperty("kiln.test.work", "target/test-work"))
                .resolve("gateway-test/callbacks-restart").toAbsolutePath();
        deleteTree(data);
        GatewayConfig base = GatewayConfig.defaults(Files.createDirectories(data)).withListen("127.0.0.1", 0);
        base = base.withInvoker(base.invoker().withEngine("process").withMemoryBudgetMib(1024));
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort(); // nothing listens there once closed: the first send fails, to be retried
        }
        String url = "http://127.0.0.1:" + closed + "/later";
        Gateway a = Gateway.start(base.withCallbackAllow(List.of(Cidr.parse("127.0.0.1/32"))));
        String id;
        try {
            given(a).contentType("application/java-archive").body(Fixtures.functions())
                    .put("/v1/functions/echo?handler=com.example.Echo&memory=256").then().statusCode(201);
            id = given(a).header("X-Kiln-Callback", url).body("x").post("/async-function/echo").then().statusCode(202)
                    .extract().jsonPath().getString("callId");
            // The call's end and its callback item commit together: once it has succeeded, the callback is queued.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!given(a).get("/v1/calls/" + id).jsonPath().getString("state").equals("succeeded")) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the call did not succeed within 60 s");
                }
                Thread.sleep(20);
            }
        } finally {
            a.shutdown(Duration.ofSeconds(10));
        }
        Gateway b = Gateway.start(base);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            JsonPath dead = given(b).get("/v1/functions/echo/dead-letters").jsonPath();
            while (dead.getList("deadLetters").isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the callback was not dead-lettered within 60 s");
                }
                Thread.sleep(20);
                dead = given(b).get("/v1/functions/echo/dead-letters").jsonPath();
            }
            assertEquals(1, dead.getList("deadLetters").size(), dead.prettify());
            assertEquals("callback:" + id, dead.getString("deadLetters[0].source"));
            // The first gateway's attempt (if it made one before stopping) found nobody listening: retried.
            // The refusal ends it: one callback_forbidden attempt, none after, with retries left in the policy.
            List<String> codes = dead.getList("deadLetters[0].attemptLog.error.code");
            assertEquals("callback_forbidden", codes.get(codes.size() - 1), dead.prettify());
            assertEquals(List.of(), codes.subList(0, codes.size() - 1).stream()
                    .filter(c -> !c.equals("callback_failed")).toList(), dead.prettify());
            assertEquals("callback_forbidden", dead.getString("deadLetters[0].error.code"));
            assertEquals("callback " + url + " is 127.0.0.1, which is loopback (127/8); the gateway does not send"
                    + " callbacks into internal networks. An operator can open it with --callback-allow"
                    + " 127.0.0.1/32 (or its range)", dead.getString("deadLetters[0].error.message"));
        } finally {
            b.shutdown(Duration.ofSeconds(10));
            deleteTree(data);
        }
    }

    private static RequestSpecification given(Gateway g) {
        return RestAssured.given().baseUri(g.url()).header("Authorization", "Bearer " + g.token().token());
    }

    private static void deleteTree(Path dir) throws java.io.IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
