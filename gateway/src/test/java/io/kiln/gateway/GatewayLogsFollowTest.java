package io.kiln.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kiln.gateway.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Following a function's log: the recent lines first, then new ones as calls print them (real engine). */
class GatewayLogsFollowTest {

    private static final TestServer SERVER = TestServer.vm();
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aFollowerSeesRecentLinesThenTheLinesOfANewCall() throws Exception {
        SERVER.ensure("greeter", "com.example.Greeter", "");
        String firstId = SERVER.given().contentType("application/json").body("{\"name\":\"Before\",\"age\":1}")
                .post("/function/greeter").then().statusCode(200).extract().header("X-Kiln-Call-Id");

        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<InputStream> stream = client.send(HttpRequest.newBuilder(
                        URI.create(SERVER.url() + "/v1/functions/greeter/logs?follow=true&limit=2000"))
                .header("Authorization", "Bearer " + SERVER.token()).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, stream.statusCode());
        assertEquals("application/x-ndjson", stream.headers().firstValue("Content-Type").orElse(""));
        BlockingQueue<JsonNode> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(JSON.readTree(line));
                }
            } catch (Exception ignored) {
                // closed by the test
            }
        }, "log-follower");
        reader.setDaemon(true);
        reader.start();
        try {
            assertNotNull(next(lines, firstId, "greeting Before"), "the earlier call's line, from the recent ones");
            String secondId = SERVER.given().contentType("application/json").body("{\"name\":\"After\",\"age\":2}")
                    .post("/function/greeter").then().statusCode(200).extract().header("X-Kiln-Call-Id");
            JsonNode after = next(lines, secondId, "greeting After");
            assertNotNull(after, "the new call's line, as it came");
            assertEquals("stdout", after.get("stream").asText());
        } finally {
            stream.body().close();
        }
    }

    /** The next line of {@code callId} with {@code text}, skipping others; null after 30 s. */
    private static JsonNode next(BlockingQueue<JsonNode> lines, String callId, String text) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            JsonNode l = lines.poll(100, TimeUnit.MILLISECONDS);
            if (l != null && callId.equals(l.get("callId").asText(null)) && text.equals(l.get("text").asText())) {
                assertTrue(l.get("seq").asLong() > 0);
                return l;
            }
        }
        return null;
    }
}
