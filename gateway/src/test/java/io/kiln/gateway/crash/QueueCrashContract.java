package io.kiln.gateway.crash;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kiln.agent.testing.Fixtures;
import io.kiln.gateway.testing.GatewayProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The durable queue under {@code kill -9}: {@link #calls()} async calls and a batch job of
 * {@link #records()} records are submitted while the gateway is killed {@link #kills()} times at
 * random moments (the seed is printed) and started again each time on the same data directory and
 * store. Afterwards every accepted call has run and succeeded with its own result, every record has
 * its own output in the job's results, and every duplicate is one a kill interrupted, counted by
 * the job's report. The process engine stands in for VMs (the queue is what is under test).
 *
 * <p>Sizes: SQLite (the default store) runs the full size, 1,000 calls, 10,000 records, 5 kills;
 * PostgreSQL 1,000 calls, 4,000 records, 5 kills; the real engine (QEMU) 100 calls, 200 records,
 * 2 kills.
 */
abstract class QueueCrashContract {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Each function's maxConcurrency: what one of them runs at once. */
    static final int PER_FUNCTION = 4;

    @TempDir
    Path data;
    GatewayProcess gateway;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    abstract String queueUrl(Path data);

    int calls() {
        return 1000;
    }

    int kills() {
        return 5;
    }

    int records() {
        return 10_000;
    }

    String engine() {
        return "process";
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (gateway != null) {
            gateway.stop();
        }
    }

    @Test
    void everyAcceptedCallRunsAtLeastOnceThroughKills() throws Exception {
        long seed = Long.getLong("kiln.test.seed", System.nanoTime());
        System.out.println("[crash] seed " + seed + " (-Dkiln.test.seed to repeat)");
        Random random = new Random(seed);
        gateway = new GatewayProcess(data, GatewayProcess.freePort(), engine(), queueUrl(data), List.of());
        gateway.start();
        String token = gateway.token();
        // Retries generous enough that no run of kills exhausts them: this test is about loss, not the policy.
        // Four calls at a time of each function: their 8 instances of 256 MiB fill the 2 GiB budget and no
        // more, so neither function waits for the other's idle instances to be retired. At 16 each they
        // did: every other call was a cold start or a no_capacity release, and the run's time was that of
        // JVM starts, several minutes on a loaded machine, not the queue's.
        HttpResponse<String> deployed = http.send(HttpRequest.newBuilder(URI.create(gateway.url()
                        + "/v1/functions/sleeper?handler=com.example.Sleeper&maxConcurrency=" + PER_FUNCTION
                        + "&maxRetries=50"
                        + "&retryBackoff=50ms&maxRetryBackoff=500ms"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/java-archive")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(Fixtures.functions())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, deployed.statusCode(), deployed.body());

        // Echo, for the job: each record's output is the record itself.
        HttpResponse<String> echo = http.send(HttpRequest.newBuilder(URI.create(gateway.url()
                        + "/v1/functions/echo?handler=com.example.Echo&maxConcurrency=" + PER_FUNCTION
                        + "&maxRetries=50"
                        + "&retryBackoff=50ms&maxRetryBackoff=500ms"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/java-archive")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(Fixtures.functions())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, echo.statusCode(), echo.body());
        int records = records();
        StringBuilder data = new StringBuilder();
        for (int r = 0; r < records; r++) {
            data.append("{\"record\":").append(r).append("}\n");
        }
        HttpResponse<String> submitted = http.send(HttpRequest.newBuilder(URI.create(gateway.url()
                        + "/v1/jobs?function=echo&format=jsonl&maxConcurrency=16"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(data.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(201, submitted.statusCode(), submitted.body());
        String jobId = JSON.readTree(submitted.body()).get("id").asText();

        int calls = calls();
        String[] callIds = new String[calls];
        AtomicInteger submitRetries = new AtomicInteger();
        CompletableFuture<Void> submitter = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < calls; i++) {
                callIds[i] = submit(token, i, submitRetries);
            }
        });

        List<Instant> kills = new ArrayList<>();
        for (int k = 0; k < kills(); k++) {
            Thread.sleep(300 + random.nextInt(1700));
            kills.add(Instant.now());
            gateway.kill9();
            System.out.println("[crash] kill -9 number " + (k + 1) + " at " + kills.get(k));
            gateway.start();
        }
        submitter.get(5, TimeUnit.MINUTES);

        // Every accepted call ends, and succeeds, with its own result.
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        int duplicates = 0;
        for (int i = 0; i < calls; i++) {
            JsonNode call;
            while (true) {
                call = get(token, "/v1/calls/" + callIds[i]);
                String state = call.get("state").asText();
                if (state.equals("succeeded") || state.equals("failed")) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    fail("call " + i + " (" + callIds[i] + ") did not end within 5 min: " + call);
                }
                Thread.sleep(50);
            }
            assertEquals("succeeded", call.get("state").asText(), call.toString());
            assertEquals("slept " + ms(i), new String(java.util.Base64.getDecoder().decode(
                    call.get("result").get("bodyBase64").asText())), call.toString());
            JsonNode log = call.get("attemptLog");
            assertEquals("succeeded", log.get(log.size() - 1).get("outcome").asText(), call.toString());
            for (int a = 0; a < log.size() - 1; a++) {
                JsonNode attempt = log.get(a);
                assertEquals("interrupted", attempt.get("outcome").asText(), "an attempt that was not the last "
                        + "can only be one a kill interrupted: " + call);
                Instant started = Instant.parse(attempt.get("startedAt").asText());
                Instant ended = Instant.parse(attempt.get("endedAt").asText());
                assertTrue(kills.stream().anyMatch(k -> !started.isAfter(k) && !ended.isBefore(k)),
                        "an interrupted attempt spans a kill: " + attempt + ", kills " + kills);
                duplicates++;
            }
        }
        // The job: every record done once in its counts, its output its own, duplicates counted.
        JsonNode job;
        while (!(job = get(token, "/v1/jobs/" + jobId)).get("state").asText().equals("succeeded")) {
            assertEquals("running", job.get("state").asText(), job.toString());
            if (System.nanoTime() > deadline) {
                fail("the job did not end within 5 min: " + job);
            }
            Thread.sleep(100);
        }
        assertEquals(records, job.get("total").asInt(), job.toString());
        assertEquals(records, job.get("done").asInt(), job.toString());
        assertEquals(0, job.get("failed").asInt(), job.toString());
        String[] results = getText(token, "/v1/jobs/" + jobId + "/results").split("\n");
        assertEquals(records, results.length);
        for (int r = 0; r < records; r++) {
            JsonNode line = JSON.readTree(results[r]);
            assertEquals(r, line.get("index").asInt());
            assertEquals(r, line.get("output").get("record").asInt(), results[r]);
        }
        int jobDuplicates = job.get("duplicates").asInt();
        assertTrue(jobDuplicates >= 0 && jobDuplicates <= kills() * PER_FUNCTION,
                "at most what was in flight at the kills (" + PER_FUNCTION + " at a time): " + job);

        JsonNode health = get(token, "/healthz");
        System.out.println("[crash] " + calls + " calls and a job of " + records + " records through " + kills()
                + " kills: all succeeded; " + duplicates + " call attempts and " + jobDuplicates
                + " job records were interrupted by a kill and run again; " + submitRetries.get()
                + " submits were retried with their Idempotency-Key; queue now " + health.get("queue"));
    }

    static int ms(int i) {
        return 5 + i % 40;
    }

    /** Submits call {@code i} until it is accepted: a kill may cut a submit, and its key makes a retry safe. */
    private String submit(String token, int i, AtomicInteger retries) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (true) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(gateway.url()
                                + "/async-function/sleeper")).timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + token).header("Idempotency-Key", "crash-" + i)
                        .POST(HttpRequest.BodyPublishers.ofString("sleep " + ms(i))).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 202) {
                    return JSON.readTree(r.body()).get("callId").asText();
                }
                if (r.statusCode() != 503) {
                    throw new AssertionError("submit " + i + ": HTTP " + r.statusCode() + " " + r.body());
                }
            } catch (IOException e) {
                // the gateway is down or was killed mid-request: try again with the same key
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            retries.incrementAndGet();
            if (System.nanoTime() > deadline) {
                throw new AssertionError("submit " + i + " was never accepted in 3 min");
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private JsonNode get(String token, String path) throws IOException, InterruptedException {
        return JSON.readTree(getText(token, path));
    }

    private String getText(String token, String path) throws IOException, InterruptedException {
        for (int attempt = 0; ; attempt++) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(gateway.url() + path))
                        .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), path + ": " + r.body());
                return r.body();
            } catch (IOException e) {
                if (attempt > 20) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }
}
