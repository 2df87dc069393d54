package io.kiln.gateway.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kiln.agent.testing.Fixtures;
import io.kiln.gateway.testing.ClusterNodes;
import io.kiln.gateway.testing.GatewayProcess;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The few HTTP exchanges the cluster tests repeat, with the cluster's token. */
final class Api {

    static final ObjectMapper JSON = new ObjectMapper();

    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    final String token;
    /** Every node's URL: a deploy is done when each of them has the version. */
    final List<String> nodes;
    /** A sync call's request timeout: the QEMU test's first cold start on a node makes its snapshot. */
    final Duration callTimeout;

    Api(ClusterNodes cluster) throws IOException {
        this(cluster, Duration.ofSeconds(60));
    }

    Api(ClusterNodes cluster, Duration callTimeout) throws IOException {
        this.token = cluster.token();
        this.nodes = cluster.nodes().stream().map(GatewayProcess::url).toList();
        this.callTimeout = callTimeout;
    }

    /**
     * Deploys the fixture jar as {@code name} through {@code url} ({@code query} starts with the
     * handler), then waits until every node has the version: the others adopt it from the shared
     * catalog "within a moment" (NOTIFY, or their 5 s poll), and until then a call through one of
     * them is a 404. Bounded at 10 s.
     */
    JsonNode deploy(String url, String name, String query) throws IOException, InterruptedException {
        return deploy(url, name, query, Duration.ofMinutes(2));
    }

    JsonNode deploy(String url, String name, String query, Duration timeout) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/functions/" + name + "?" + query))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/java-archive")
                .timeout(timeout).PUT(HttpRequest.BodyPublishers.ofByteArray(Fixtures.functions())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, r.statusCode(), "deploy " + name + " through " + url + ": " + r.body());
        JsonNode deployed = JSON.readTree(r.body());
        int version = deployed.get("version").asInt();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (String node : nodes) {
            while (true) {
                HttpResponse<String> d = http.send(HttpRequest.newBuilder(URI.create(node + "/v1/functions/" + name))
                        .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (d.statusCode() == 200 && JSON.readTree(d.body()).get("version").asInt() == version) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    fail(node + " did not have " + name + " version " + version + " 10 s after its deploy through "
                            + url + ": " + d.statusCode() + " " + d.body());
                }
                Thread.sleep(20);
            }
        }
        return deployed;
    }

    HttpRequest syncRequest(String url, String function, String body) {
        return HttpRequest.newBuilder(URI.create(url + "/function/" + function))
                .header("Authorization", "Bearer " + token).timeout(callTimeout)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    HttpResponse<String> call(String url, String function, String body) throws IOException, InterruptedException {
        return http.send(syncRequest(url, function, body), HttpResponse.BodyHandlers.ofString());
    }

    /** A sync call that must answer 200 with {@code expected}; returns the node that ran it ({@code X-Kiln-Node}). */
    String callExpecting(String url, String function, String body, String expected)
            throws IOException, InterruptedException {
        HttpResponse<String> r = call(url, function, body);
        assertEquals(200, r.statusCode(), function + " through " + url + ": " + r.body());
        assertEquals(expected, r.body(), function + " through " + url);
        return servedBy(r);
    }

    static String servedBy(HttpResponse<?> r) {
        return r.headers().firstValue("X-Kiln-Node")
                .orElseThrow(() -> new AssertionError("no X-Kiln-Node on " + r + ": " + r.headers().map()));
    }

    HttpRequest asyncRequest(String url, String function, String key, String body) {
        return HttpRequest.newBuilder(URI.create(url + "/async-function/" + function))
                .header("Authorization", "Bearer " + token).header("Idempotency-Key", key)
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    /** GET through the first of {@code urls} that answers: 200 required. */
    JsonNode get(List<String> urls, String path) throws IOException, InterruptedException {
        return JSON.readTree(getText(urls, path));
    }

    String getText(List<String> urls, String path) throws IOException, InterruptedException {
        IOException last = null;
        for (int attempt = 0; attempt < 20; attempt++) {
            String url = urls.get(attempt % urls.size());
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + path))
                        .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), path + " through " + url + ": " + r.body());
                return r.body();
            } catch (IOException e) {
                last = e;
                Thread.sleep(100);
            }
        }
        throw last;
    }

    /** Waits (up to {@code timeout}) for an async call to end; returns its record. */
    JsonNode awaitCall(List<String> urls, String id, long deadlineNanos) throws IOException, InterruptedException {
        while (true) {
            JsonNode call = get(urls, "/v1/calls/" + id);
            String state = call.get("state").asText();
            if (state.equals("succeeded") || state.equals("failed")) {
                return call;
            }
            if (System.nanoTime() > deadlineNanos) {
                fail("call " + id + " did not end in time: " + call);
            }
            Thread.sleep(50);
        }
    }

    /** Waits for a job to succeed and checks every record's output is its own ({@code {"record":r}}). */
    JsonNode awaitJobOfRecords(List<String> urls, String jobId, int records, long deadlineNanos)
            throws IOException, InterruptedException {
        JsonNode job;
        while (!(job = get(urls, "/v1/jobs/" + jobId)).get("state").asText().equals("succeeded")) {
            assertEquals("running", job.get("state").asText(), job.toString());
            if (System.nanoTime() > deadlineNanos) {
                fail("the job did not end in time: " + job);
            }
            Thread.sleep(100);
        }
        assertEquals(records, job.get("total").asInt(), job.toString());
        assertEquals(records, job.get("done").asInt(), job.toString());
        assertEquals(0, job.get("failed").asInt(), job.toString());
        String[] results = getText(urls, "/v1/jobs/" + jobId + "/results").split("\n");
        assertEquals(records, results.length);
        for (int r = 0; r < records; r++) {
            JsonNode line = JSON.readTree(results[r]);
            assertEquals(r, line.get("index").asInt());
            assertEquals(r, line.get("output").get("record").asInt(), results[r]);
        }
        return job;
    }

    /** Submits a job of {@code records} records {@code {"record":r}} to {@code function} through {@code url}. */
    String submitJob(String url, String function, int records, int maxConcurrency)
            throws IOException, InterruptedException {
        StringBuilder data = new StringBuilder();
        for (int r = 0; r < records; r++) {
            data.append("{\"record\":").append(r).append("}\n");
        }
        HttpResponse<String> submitted = http.send(HttpRequest.newBuilder(URI.create(url
                        + "/v1/jobs?function=" + function + "&format=jsonl&maxConcurrency=" + maxConcurrency))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(data.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, submitted.statusCode(), submitted.body());
        return JSON.readTree(submitted.body()).get("id").asText();
    }

    /** An ended async call's result body as text. */
    static String resultText(JsonNode call) {
        assertTrue(call.hasNonNull("result"), call.toString());
        return new String(Base64.getDecoder().decode(call.get("result").get("bodyBase64").asText()));
    }
}
