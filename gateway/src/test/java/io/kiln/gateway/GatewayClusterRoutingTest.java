package io.kiln.gateway;

import io.kiln.agent.testing.Fixtures;
import io.kiln.gateway.cluster.ClusterConfig;
import io.kiln.gateway.cluster.Rendezvous;
import io.kiln.gateway.http.Json;
import io.kiln.invoker.store.FunctionConfig;
import io.kiln.queue.testing.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two gateways in this JVM sharing one real PostgreSQL database: membership, the shared token,
 * calls going to their function's home node whichever node takes them, overflow to the other
 * node when the home cannot start a call at once, and the internal credential.
 */
class GatewayClusterRoutingTest {

    @TempDir
    static Path dirs;
    static Gateway a;
    static Gateway b;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    static Gateway node(String name, String url) throws Exception {
        GatewayConfig c = GatewayConfig.defaults(dirs.resolve(name)).withListen("127.0.0.1", 0);
        c = c.withInvoker(c.invoker().withEngine("process").withMemoryBudgetMib(1024))
                .withQueue(c.queue().withUrl(url).withNode(name))
                .withCluster(ClusterConfig.defaults().withNodeTimeout(Duration.ofSeconds(5)));
        return Gateway.start(c);
    }

    @BeforeAll
    static void start() throws Exception {
        String url = PostgresServer.shared().freshDatabase("routing");
        a = node("a", url);
        b = node("b", url);
        for (Gateway g : List.of(a, b)) {
            // The catalog shares deploys between nodes; here each node is given the function itself.
            g.invoker().deploy("sleeper", new ByteArrayInputStream(Fixtures.functions()),
                    FunctionConfig.of("com.example.Sleeper").withMaxConcurrency(1), line -> { });
            g.invoker().deploy("greeter", new ByteArrayInputStream(Fixtures.functions()),
                    FunctionConfig.of("com.example.Greeter"), line -> { });
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (a.cluster().membership().view().live().size() < 2) {
            assertTrue(System.nanoTime() < deadline, "node a never saw node b: " + a.cluster().membership().view());
            Thread.sleep(20);
        }
    }

    @AfterAll
    static void stop() {
        for (Gateway g : new Gateway[]{b, a}) {
            if (g != null) {
                g.shutdown(Duration.ofSeconds(5));
            }
        }
    }

    static HttpResponse<String> call(Gateway via, String body, String token) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(via.url() + "/function/sleeper"))
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            r.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String home() {
        return Rendezvous.rank("sleeper", List.of("a", "b")).get(0);
    }

    static Gateway gateway(String node) {
        return node.equals("a") ? a : b;
    }

    @Test
    void everyNodeSharesTheFirstNodesTokenAndListsTheOthers() throws Exception {
        assertEquals(a.token().token(), b.token().token());
        HttpResponse<String> h = HTTP.send(HttpRequest.newBuilder(URI.create(b.url() + "/healthz")).build(),
                HttpResponse.BodyHandlers.ofString());
        var nodes = Json.MAPPER.readTree(h.body()).get("nodes");
        assertEquals(2, nodes.size(), h.body());
        assertEquals("a", nodes.get(0).get("node").asText());
        assertEquals(a.url(), nodes.get(0).get("url").asText());
        assertEquals("up", nodes.get(0).get("state").asText());
        assertEquals("process", nodes.get(0).get("engine").asText());
        assertTrue(nodes.get(1).get("self").asBoolean());
        assertEquals(1024, nodes.get(1).get("load").get("memoryBudgetMib").asInt());
    }

    @Test
    void callsRunOnTheFunctionsHomeNodeWhicheverNodeTakesThem() throws Exception {
        for (int i = 0; i < 10; i++) {
            Gateway via = i % 2 == 0 ? a : b;
            HttpResponse<String> r = call(via, "sleep 1", a.token().token());
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("slept 1", r.body());
            assertEquals(home(), r.headers().firstValue("X-Kiln-Node").orElse(null), "call " + i + " via " + via.url());
        }
    }

    @Test
    void aCallTheHomeCannotStartAtOnceOverflowsToTheOtherNode() throws Exception {
        String home = home();
        String other = home.equals("a") ? "b" : "a";
        CompletableFuture<HttpResponse<String>> busy = CompletableFuture.supplyAsync(() -> {
            try {
                return call(gateway(home), "sleep 1500", a.token().token());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (gateway(home).invoker().state("sleeper").inFlight() < 1) {
            assertTrue(System.nanoTime() < deadline, "the long call never started on the home node");
            Thread.sleep(5);
        }
        for (Gateway via : List.of(a, b)) {
            HttpResponse<String> r = call(via, "sleep 1", a.token().token());
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("slept 1", r.body());
            assertEquals(other, r.headers().firstValue("X-Kiln-Node").orElse(null),
                    "with the home (maxConcurrency 1) busy, a call via " + via.url() + " went to the other node");
        }
        HttpResponse<String> first = busy.get();
        assertEquals("slept 1500", first.body());
        assertEquals(home, first.headers().firstValue("X-Kiln-Node").orElse(null));
    }

    @Test
    void logsAreMergedFromEveryNodeByTime() throws Exception {
        // Each node runs calls of its own (straight through its invoker, not routed), so each
        // keeps lines the other does not have.
        a.invoker().invoke("greeter", io.kiln.invoker.call.CallRequest.of(
                "{\"name\":\"Ada\",\"age\":36}".getBytes())).get();
        b.invoker().invoke("greeter", io.kiln.invoker.call.CallRequest.of(
                "{\"name\":\"Tim\",\"age\":7}".getBytes())).get();
        for (Gateway via : List.of(a, b)) {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(via.url()
                    + "/v1/functions/greeter/logs?limit=2000")).header("Authorization", "Bearer " + a.token().token())
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            var lines = Json.MAPPER.readTree(r.body()).get("lines");
            List<String> printed = new java.util.ArrayList<>();
            java.time.Instant last = java.time.Instant.EPOCH;
            for (var l : lines) {
                java.time.Instant t = java.time.Instant.parse(l.get("time").asText());
                assertTrue(!t.isBefore(last), "merged by time: " + r.body());
                last = t;
                String text = l.get("text").asText();
                if (l.get("stream").asText().equals("stdout") && (text.endsWith("Ada") || text.endsWith("Tim"))) {
                    printed.add(l.get("node").asText() + ":" + l.get("text").asText());
                }
            }
            assertEquals(List.of("a:greeting Ada", "b:greeting Tim"), printed, "via " + via.url());
            assertTrue(Json.MAPPER.readTree(r.body()).path("unavailable").isMissingNode());
        }
    }

    @Test
    void aFollowerOnOneNodeGetsTheNewLinesOfEveryNode() throws Exception {
        HttpResponse<java.util.stream.Stream<String>> r = HTTP.send(HttpRequest.newBuilder(URI.create(a.url()
                + "/v1/functions/greeter/logs?follow=true&limit=1")).header("Authorization", "Bearer "
                + a.token().token()).build(), HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        CompletableFuture<List<String>> seen = CompletableFuture.supplyAsync(() -> {
            List<String> got = new java.util.ArrayList<>();
            java.util.Iterator<String> it = r.body().iterator();
            while (got.size() < 2 && it.hasNext()) {
                try {
                    var l = Json.MAPPER.readTree(it.next());
                    if (l.get("stream").asText().equals("stdout") && l.get("text").asText().endsWith("Zed")) {
                        got.add(l.get("node").asText() + ":" + l.get("text").asText());
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
            return got;
        });
        // Lines written after the follower joined, on both nodes. The peer's stream is opened
        // asynchronously: keep calling on b until its line arrives (each call prints once).
        a.invoker().invoke("greeter", io.kiln.invoker.call.CallRequest.of(
                "{\"name\":\"Zed\",\"age\":1}".getBytes())).get();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!seen.isDone()) {
            assertTrue(System.nanoTime() < deadline, "the follower on a never got b's line");
            b.invoker().invoke("greeter", io.kiln.invoker.call.CallRequest.of(
                    "{\"name\":\"Zed\",\"age\":2}".getBytes())).get();
            Thread.sleep(200);
        }
        List<String> got = seen.get();
        assertTrue(got.contains("a:greeting Zed") && got.contains("b:greeting Zed"), got.toString());
        r.body().close();
    }

    @Test
    void aForgedInternalCredentialIsRefused() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(a.url() + "/function/sleeper"))
                .header("Authorization", "Bearer " + a.token().token()).header("X-Kiln-Internal", "guess")
                .POST(HttpRequest.BodyPublishers.ofString("sleep 1")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(403, r.statusCode());
        assertEquals("forbidden", Json.MAPPER.readTree(r.body()).get("error").get("code").asText());
    }

    @Test
    void aFunctionsHomeIsTheSameOnEveryNodeAndSpreadsFunctionsOverNodes() {
        int onA = 0;
        for (int i = 0; i < 300; i++) {
            List<String> r = Rendezvous.rank("fn-" + i, List.of("a", "b", "c"));
            assertEquals(r, Rendezvous.rank("fn-" + i, List.of("c", "a", "b")), "the order of the list does not matter");
            if (r.get(0).equals("a")) {
                onA++;
            }
            // Removing a node that is not the home leaves the home where it was.
            String notHome = r.get(2);
            List<String> two = new java.util.ArrayList<>(List.of("a", "b", "c"));
            two.remove(notHome);
            assertEquals(r.get(0), Rendezvous.rank("fn-" + i, two).get(0));
        }
        assertTrue(onA > 70 && onA < 130, "about a third of 300 functions live on a, got " + onA);
        assertNotEquals(Rendezvous.rank("x", List.of("a", "b")), null);
    }
}
