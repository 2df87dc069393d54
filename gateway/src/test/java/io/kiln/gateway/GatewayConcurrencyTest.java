package io.kiln.gateway;

import io.kiln.gateway.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Calls at once on the real engine: each gets its own answer, and the pool grows to carry them. */
class GatewayConcurrencyTest {

    private static final TestServer SERVER = TestServer.vm();

    @Test
    void eightCallsAtOnceAllAnsweredCorrectly() throws Exception {
        SERVER.ensure("greeter", "com.example.Greeter", "");
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            calls.add(client.sendAsync(HttpRequest.newBuilder(URI.create(SERVER.url() + "/function/greeter"))
                    .header("Authorization", "Bearer " + SERVER.token())
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"n" + i + "\",\"age\":" + (10 + i) + "}"))
                    .build(), HttpResponse.BodyHandlers.ofString()));
        }
        Set<String> ids = new HashSet<>();
        int cold = 0;
        for (int i = 0; i < 8; i++) {
            HttpResponse<String> r = calls.get(i).get(120, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode(), r::body);
            assertEquals("{\"message\":\"Hello, n" + i + "\",\"adult\":" + (10 + i >= 18) + "}", r.body());
            ids.add(r.headers().firstValue("X-Kiln-Call-Id").orElseThrow());
            cold += r.headers().firstValue("X-Kiln-Start").orElseThrow().equals("cold") ? 1 : 0;
        }
        assertEquals(8, ids.size(), "eight distinct call ids");
        assertTrue(cold >= 1, "more instances were started for the burst");
        int live = SERVER.given().get("/v1/functions/greeter").jsonPath().getInt("state.live");
        assertTrue(live >= 2, "instances live after the burst: " + live);
        assertEquals(0, SERVER.given().get("/v1/functions/greeter").jsonPath().getInt("state.inFlight"));
    }
}
