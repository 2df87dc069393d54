package io.kiln.gateway.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.gateway.testing.ClusterNodes;
import io.kiln.gateway.testing.GatewayProcess;
import io.kiln.gateway.testing.LoadBalancer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kill -9} of one node of three (process engine) under a mix of work: sync calls through
 * the two other nodes (4 callers), 200 async calls with idempotency keys through all three (a
 * client that moves on from a refused node), and a batch job of 2,000 records. The killed node
 * is the sync function's home, killed once 100 async calls are accepted.
 *
 * <ul>
 *   <li>Sync calls keep succeeding through the live nodes: only a call in flight at the kill may
 *       fail (its node died under it), and those are counted; every call that started after the
 *       kill succeeds, on another node.</li>
 *   <li>Every async call and every job record completes with its own result. An attempt that did
 *       not end the call was interrupted by the kill (it spans it); the job's duplicates are at most
 *       what the killed node ran of it (each function runs at most 4 calls at a time per node).</li>
 *   <li>The killed node's leased calls come back when it is declared dead (the 10 s node timeout),
 *       not when their 30 s leases expire: each interrupted attempt ends within 25 s of the kill.
 *       The calls last 100 to 200 ms, so their leases were taken under a second before the kill
 *       and would expire 29 s or more after it.</li>
 *   <li>The killed node, started again on its data directory, rejoins: every node lists three live.</li>
 * </ul>
 */
class ClusterKillTest {

    static final int ASYNC = 200;
    static final int RECORDS = 2000;
    static final int SYNC_CALLERS = 4;
    /** Bound on when a dead node's leased work is back: node timeout 10 s, plus 15 s of margin. */
    static final Duration RESCUE_BOUND = Duration.ofSeconds(25);

    @RegisterExtension
    final ClusterNodes.Scope clusters = new ClusterNodes.Scope();

    @TempDir
    Path work;

    record SyncCall(long startNanos, long endNanos, int status, String body, String node, String error) {
        boolean ok() {
            return status == 200 && body.equals("slept 20");
        }
    }

    @Test
    void killNineOfTheHomeNodeLosesNoAcceptedWork() throws Exception {
        // Three functions of at most 4 calls each per node: 12 instances of 256 MiB fit the budget, so no
        // function waits for another's idle instances to go (which would fail sync calls as no_capacity).
        ClusterNodes cluster = clusters.start(work, 3, "process", "--memory-budget-mib", "3072");
        Api api = new Api(cluster);
        // Threads of their own: the common pool has as few threads as cores, and these callers block.
        ExecutorService threads = Executors.newCachedThreadPool();
        String a = cluster.node(0).url();
        String policy = "&maxConcurrency=4&maxRetries=50&retryBackoff=50ms&maxRetryBackoff=500ms";
        api.deploy(a, "sync", "handler=com.example.Sleeper" + policy);
        api.deploy(a, "sleeper", "handler=com.example.Sleeper" + policy);
        api.deploy(a, "echo", "handler=com.example.Echo" + policy);

        String home = api.callExpecting(a, "sync", "sleep 20", "slept 20");
        GatewayProcess victim = cluster.node(home);
        List<GatewayProcess> peers = cluster.nodes().stream().filter(n -> n != victim).toList();
        List<String> peerUrls = peers.stream().map(GatewayProcess::url).toList();

        String jobId = api.submitJob(peerUrls.get(0), "echo", RECORDS, 16);

        // Sync load through the peers, until told to stop.
        AtomicBoolean stopSync = new AtomicBoolean();
        ConcurrentLinkedQueue<SyncCall> syncCalls = new ConcurrentLinkedQueue<>();
        List<CompletableFuture<Void>> callers = new ArrayList<>();
        for (int c = 0; c < SYNC_CALLERS; c++) {
            int caller = c;
            callers.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; !stopSync.get(); i++) {
                    String url = peerUrls.get((caller + i) % peerUrls.size());
                    long t0 = System.nanoTime();
                    try {
                        HttpResponse<String> r = api.call(url, "sync", "sleep 20");
                        syncCalls.add(new SyncCall(t0, System.nanoTime(), r.statusCode(), r.body(),
                                r.headers().firstValue("X-Kiln-Node").orElse(null), null));
                    } catch (IOException e) {
                        syncCalls.add(new SyncCall(t0, System.nanoTime(), -1, "", null, e.toString()));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, threads));
        }

        // Async calls through all three nodes; a refused or broken submit is sent again with its key.
        String[] callIds = new String[ASYNC];
        AtomicInteger accepted = new AtomicInteger();
        LoadBalancer lb = LoadBalancer.over(cluster.nodes());
        CompletableFuture<Void> submitter = CompletableFuture.runAsync(() -> {
            try {
                for (int i = 0; i < ASYNC; i++) {
                    int n = i;
                    HttpResponse<String> r = lb.send(url -> api.asyncRequest(url, "sleeper", "kill-" + n,
                            "sleep " + ms(n)), Duration.ofMinutes(2));
                    assertEquals(202, r.statusCode(), "submit " + i + ": " + r.body());
                    callIds[i] = Api.JSON.readTree(r.body()).get("callId").asText();
                    accepted.incrementAndGet();
                }
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, threads);

        long waitDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (accepted.get() < ASYNC / 2 && !submitter.isDone()) {
            assertTrue(System.nanoTime() < waitDeadline, "100 async calls were not accepted within 60 s");
            Thread.sleep(5);
        }
        JsonNode jobAtKill = api.get(peerUrls, "/v1/jobs/" + jobId);
        long killStart = System.nanoTime();
        Instant killedAt = Instant.now();
        victim.kill9();
        long killEnd = System.nanoTime();
        System.out.println("[cluster] kill -9 of " + home + " at " + killedAt + " with " + accepted.get()
                + " async calls accepted; the job then: " + jobAtKill);

        // Past the node timeout, so that calls before and after the node is declared dead are seen.
        Thread.sleep(12_000);
        stopSync.set(true);
        CompletableFuture.allOf(callers.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
        submitter.get(2, TimeUnit.MINUTES);
        lb.close();
        threads.shutdown();

        // Sync: only calls in flight at the kill may have failed; every later one succeeded elsewhere.
        int failedInFlight = 0;
        int afterKill = 0;
        for (SyncCall s : syncCalls) {
            boolean inFlightAtKill = s.startNanos() < killEnd && s.endNanos() > killStart;
            if (!s.ok()) {
                assertTrue(inFlightAtKill, "a sync call that was not in flight at the kill failed; it started "
                        + (s.startNanos() - killEnd) / 1_000_000 + " ms after the killed node was gone: " + s);
                failedInFlight++;
            }
            if (s.startNanos() > killEnd) {
                afterKill++;
                assertNotEquals(home, s.node(), "a call after the kill ran on the killed node: " + s);
            }
        }
        assertTrue(failedInFlight <= SYNC_CALLERS, "at most one failed call per caller: " + failedInFlight);
        assertTrue(afterKill > 0, "sync calls ran after the kill");

        // Async: every call succeeded with its own result; any earlier attempt was interrupted by the kill.
        List<String> live = peerUrls;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        int duplicates = 0;
        Duration slowestRescue = Duration.ZERO;
        for (int i = 0; i < ASYNC; i++) {
            JsonNode call = api.awaitCall(live, callIds[i], deadline);
            assertEquals("succeeded", call.get("state").asText(), call.toString());
            assertEquals("slept " + ms(i), Api.resultText(call), call.toString());
            JsonNode log = call.get("attemptLog");
            assertEquals("succeeded", log.get(log.size() - 1).get("outcome").asText(), call.toString());
            for (int k = 0; k < log.size() - 1; k++) {
                JsonNode attempt = log.get(k);
                assertEquals("interrupted", attempt.get("outcome").asText(), call.toString());
                Instant started = Instant.parse(attempt.get("startedAt").asText());
                Instant ended = Instant.parse(attempt.get("endedAt").asText());
                assertTrue(!started.isAfter(killedAt) && !ended.isBefore(killedAt),
                        "an interrupted attempt spans the kill at " + killedAt + ": " + attempt);
                Duration rescue = Duration.between(killedAt, ended);
                assertTrue(rescue.compareTo(RESCUE_BOUND) < 0, "the killed node's call came back " + rescue
                        + " after the kill, not within the node timeout plus margin (" + RESCUE_BOUND + "): " + call);
                if (rescue.compareTo(slowestRescue) > 0) {
                    slowestRescue = rescue;
                }
                duplicates++;
            }
        }

        JsonNode job = api.awaitJobOfRecords(live, jobId, RECORDS, deadline);
        int jobDuplicates = job.get("duplicates").asInt();
        assertTrue(jobDuplicates >= 0 && jobDuplicates <= 4, "at most what the killed node ran of the job (4): "
                + job);
        System.out.println("[cluster] kill -9 of " + home + ": " + syncCalls.size() + " sync calls through "
                + peers.stream().map(GatewayProcess::url).toList() + ", " + failedInFlight
                + " failed in flight at the kill, " + afterKill + " after it all succeeded; " + ASYNC
                + " async calls all succeeded, " + duplicates + " attempts interrupted by the kill (the slowest back "
                + slowestRescue.toMillis() + " ms after it); a job of " + RECORDS + " records done, " + jobDuplicates
                + " duplicates; submits: " + lb);

        // The killed node comes back on its data directory and rejoins: every node sees all three live.
        victim.start();
        cluster.awaitLive(Duration.ofSeconds(30));
        api.callExpecting(victim.url(), "sync", "sleep 20", "slept 20");
    }

    static int ms(int i) {
        return 100 + i % 100;
    }
}
