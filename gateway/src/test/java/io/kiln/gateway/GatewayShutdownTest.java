package io.kiln.gateway;

import io.kiln.agent.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A graceful shutdown: a call in flight finishes and is answered; a request during the drain gets 503. */
class GatewayShutdownTest {

    @TempDir
    Path data;

    @Test
    void callsInFlightAreDrainedAndNewOnesRefused() throws Exception {
        GatewayConfig c = GatewayConfig.defaults(data).withListen("127.0.0.1", 0);
        Gateway g = Gateway.start(c.withInvoker(c.invoker().withEngine("process").withMemoryBudgetMib(1024)));
        try {
            g.invoker().deploy("sleeper", new ByteArrayInputStream(Fixtures.functions()),
                    io.kiln.invoker.store.FunctionConfig.of("com.example.Sleeper"), line -> { });
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            String auth = "Bearer " + g.token().token();
            CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(HttpRequest.newBuilder(
                            URI.create(g.url() + "/function/sleeper")).header("Authorization", auth)
                    .POST(HttpRequest.BodyPublishers.ofString("sleep 1500")).build(), HttpResponse.BodyHandlers.ofString());
            while (g.invoker().poolState().inFlight() == 0) {
                Thread.sleep(10);
            }
            CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> g.shutdown(Duration.ofSeconds(20)));
            // Draining once /healthz says so (503), however long the shutdown took to begin.
            HttpRequest health = HttpRequest.newBuilder(URI.create(g.url() + "/healthz")).build();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (client.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() != 503) {
                assertTrue(System.nanoTime() < deadline, "the gateway never started draining");
                Thread.sleep(10);
            }
            HttpResponse<String> refused = client.send(HttpRequest.newBuilder(URI.create(g.url() + "/function/sleeper"))
                    .header("Authorization", auth).POST(HttpRequest.BodyPublishers.ofString("sleep 1")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(503, refused.statusCode(), refused::body);
            assertTrue(refused.body().contains("\"code\":\"shutting_down\""), refused::body);
            HttpResponse<String> done = inFlight.get(30, TimeUnit.SECONDS);
            assertEquals(200, done.statusCode(), done::body);
            assertEquals("slept 1500", done.body());
            stopping.get(30, TimeUnit.SECONDS);
        } finally {
            g.shutdown(Duration.ZERO);
        }
    }

}
