package io.kiln.gateway.cluster;

import io.kiln.agent.testing.Fixtures;
import io.kiln.gateway.Gateway;
import io.kiln.gateway.GatewayConfig;
import io.kiln.queue.catalog.CatalogVersion;
import io.kiln.queue.catalog.FunctionCatalog;
import io.kiln.queue.db.Database;
import io.kiln.queue.testing.PostgresServer;
import io.restassured.RestAssured;
import io.restassured.config.EncoderConfig;
import io.restassured.config.RestAssuredConfig;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two nodes in one JVM (process engine, each its own data directory) sharing one PostgreSQL
 * database: what one deploys or deletes, the other serves or stops serving, through the
 * shared catalog.
 */
class CatalogSyncTest {

    /** A NOTIFY arrives in milliseconds; the poll is the fallback every 5 s. */
    private static final Duration SYNC = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    private String url;
    private final List<Node> nodes = new ArrayList<>();

    /** One node: a gateway on its own data directory, started and stopped by the test. */
    private final class Node {
        final String name;
        final GatewayConfig config;
        Gateway gateway;

        Node(String name, String queueUrl) {
            this.name = name;
            GatewayConfig c = GatewayConfig.defaults(dir.resolve(name)).withListen("127.0.0.1", 0);
            c = c.withInvoker(c.invoker().withEngine("process").withMemoryBudgetMib(2048));
            c = c.withQueue(queueUrl == null ? c.queue().withNode(name) : c.queue().withUrl(queueUrl).withNode(name));
            this.config = c;
            nodes.add(this);
        }

        Node start() throws IOException {
            gateway = Gateway.start(config);
            return this;
        }

        void stop() {
            gateway.shutdown(Duration.ofSeconds(5));
            gateway = null;
        }

        RequestSpecification given() {
            return RestAssured.given().baseUri(gateway.url())
                    .config(RestAssuredConfig.config().encoderConfig(EncoderConfig.encoderConfig()
                            .appendDefaultContentCharsetToContentTypeIfUndefined(false)))
                    .header("Authorization", "Bearer " + gateway.token().token());
        }

        Response deploy(String function, String handler, String greeting) {
            return given().contentType("application/java-archive").body(Fixtures.functions())
                    .put("/v1/functions/" + function + "?handler=" + handler + "&memory=256&env=GREETING=" + greeting);
        }

        /** What the Env fixture answers, without its call id. */
        String call(String function) {
            Response r = given().body("").post("/function/" + function);
            assertEquals(200, r.statusCode(), r.asString());
            String t = r.asString();
            return t.substring(0, t.indexOf(" call="));
        }

        /** The function's current version here, 0 if this node has none. */
        long version(String function) {
            Response r = given().get("/v1/functions/" + function);
            return r.statusCode() == 404 ? 0 : r.jsonPath().getLong("version");
        }
    }

    @BeforeEach
    void database() {
        url = PostgresServer.shared().freshDatabase("catalogsync");
    }

    @AfterEach
    void stop() {
        for (Node n : nodes) {
            if (n.gateway != null) {
                n.stop();
            }
        }
    }

    private static <T> void until(T expected, Supplier<T> actual, String what) {
        long deadline = System.nanoTime() + SYNC.toNanos();
        T last = actual.get();
        while (!expected.equals(last)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": expected " + expected + " within " + SYNC + ", last " + last);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            last = actual.get();
        }
    }

    @Test
    void aDeployRedeployAndDeleteOnOneNodeReachTheOther() throws IOException {
        Node a = new Node("a", url).start();
        Node b = new Node("b", url).start();

        a.deploy("f", "com.example.Env", "one").then().statusCode(201).body("version", equalTo(1));
        until(1L, () -> b.version("f"), "f's version on b");
        String sha = a.given().get("/v1/functions/f").jsonPath().getString("jar.sha256");
        b.given().get("/v1/functions/f?reveal=env").then().statusCode(200).body("jar.sha256", equalTo(sha))
                .body("config.env.GREETING", equalTo("one"));
        assertEquals("one f:1", b.call("f"));
        assertEquals("one f:1", a.call("f"));

        b.deploy("f", "com.example.Env", "two").then().statusCode(200).body("version", equalTo(2));
        until(2L, () -> a.version("f"), "f's version on a");
        assertEquals("two f:2", a.call("f"));
        assertEquals("two f:2", b.call("f"));
        a.given().get("/v1/functions/f").then().body("versions.version", equalTo(List.of(1, 2)));

        a.given().delete("/v1/functions/f").then().statusCode(204);
        until(0L, () -> b.version("f"), "f on b");
        b.given().body("").post("/function/f").then().statusCode(404);
        b.given().delete("/v1/functions/f").then().statusCode(404);

        // A new function of the same name starts again at 1 on both.
        b.deploy("f", "com.example.Env", "three").then().statusCode(201).body("version", equalTo(1));
        until(1L, () -> a.version("f"), "the new f on a");
        assertEquals("three f:1", a.call("f"));
    }

    @Test
    void aDeployWhoseInitFailsIsRefusedOnceAndNoNodeHasIt() throws Exception {
        Node a = new Node("a", url).start();
        Node b = new Node("b", url).start();
        a.deploy("bad", "com.example.BadStatic", "x").then().statusCode(422).body("error.code", equalTo("init_failed"));
        // A later deploy that works is version 1 everywhere: nothing of the failed one was published.
        a.deploy("good", "com.example.Env", "ok").then().statusCode(201);
        until(1L, () -> b.version("good"), "good on b");
        assertEquals(0, b.version("bad"));
        assertEquals(0, a.version("bad"));
        try (Database db = Database.open(url, 1)) {
            FunctionCatalog catalog = new FunctionCatalog(db, Clock.systemUTC());
            assertEquals(List.of("good"), catalog.list().stream().map(CatalogVersion::name).toList());
        }
    }

    @Test
    void aNodeRestartedWithAnOlderReplicaCatchesUpBeforeItServes() throws IOException {
        Node a = new Node("a", url).start();
        Node b = new Node("b", url).start();
        a.deploy("f", "com.example.Env", "one").then().statusCode(201);
        a.deploy("gone", "com.example.Env", "g").then().statusCode(201);
        until(1L, () -> b.version("gone"), "gone on b");
        until(1L, () -> b.version("f"), "f on b");
        b.stop();

        a.deploy("f", "com.example.Env", "two").then().statusCode(200).body("version", equalTo(2));
        a.deploy("new", "com.example.Env", "n").then().statusCode(201);
        a.given().delete("/v1/functions/gone").then().statusCode(204);

        // No waiting: the catalog is applied before the node serves.
        b.start();
        assertEquals(2, b.version("f"));
        assertEquals(1, b.version("new"));
        assertEquals(0, b.version("gone"));
        b.given().get("/v1/functions").then().body("functions.name", equalTo(List.of("f", "new")));
        assertEquals("two f:2", b.call("f"));
        assertEquals("n new:1", b.call("new"));
    }

    @Test
    void aDeployThatLosesTheRaceForItsVersionIsAConflict() throws Exception {
        Node b = new Node("b", url).start();
        b.deploy("f", "com.example.Env", "one").then().statusCode(201);
        // Another node's f@2 that b cannot install (a newer Kiln's version format, say): b stays
        // at 1, so its next deploy prepares 2, which the catalog has.
        try (Database db = Database.open(url, 1)) {
            FunctionCatalog catalog = new FunctionCatalog(db, Clock.systemUTC());
            CatalogVersion v1 = catalog.current("f").orElseThrow();
            catalog.publish(new CatalogVersion("f", 2, v1.jarSha256(), v1.jarSize(), "{\"from\":\"the future\"}",
                    v1.createdAtMs() + 1), () -> new ByteArrayInputStream(Fixtures.functions()));
        }
        b.deploy("f", "com.example.Env", "two").then().statusCode(409)
                .body("error.code", equalTo("conflict"))
                .body("error.message", equalTo("another deploy of f committed version 2 first; deploy again"
                        + " (this one prepared version 2)"));
        assertEquals(1, b.version("f"));
        assertEquals("one f:1", b.call("f"));
    }

    @Test
    void aSingleNodesFunctionsSeedAnEmptyCatalog() throws IOException {
        // A single node (SQLite) with a function, then the same data directory in cluster mode.
        Node solo = new Node("a", null).start();
        solo.deploy("f", "com.example.Env", "one").then().statusCode(201);
        solo.deploy("f", "com.example.Env", "two").then().statusCode(200);
        solo.stop();
        Node a = new Node("a", url);
        a.gateway = Gateway.start(solo.config.withQueue(a.config.queue()));
        assertEquals(2, a.version("f"));
        Node b = new Node("b", url).start();
        assertEquals(2, b.version("f"));
        assertEquals("two f:2", b.call("f"));
        assertTrue(b.given().get("/v1/functions/f").jsonPath().getList("versions.version").equals(List.of(2)),
                "b has the current version only");
    }
}
