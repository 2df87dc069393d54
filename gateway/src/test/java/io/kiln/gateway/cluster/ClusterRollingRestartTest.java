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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A rolling restart of three nodes (process engine) under constant load: SIGTERM node a, start it
 * again on its data directory, wait until every node lists all three live, then b, then c. The
 * load comes through a client that behaves like a plain HTTP load balancer ({@link LoadBalancer}):
 * round robin, the next node on a refused connection or 503 {@code shutting_down}, a node skipped
 * until its {@code /healthz} is 200 again. Three callers make sync calls and one submits async
 * calls with idempotency keys; each phase lasts until 20 more sync calls have succeeded.
 *
 * <p>No accepted call gets an error: every sync call answers 200 with its own output, every async
 * submit is accepted, and every accepted async call ends {@code succeeded} with its own result
 * after exactly one attempt (a graceful stop finishes what runs and releases, uncounted, what it
 * claimed but did not start). No connection breaks after a request was sent.
 */
class ClusterRollingRestartTest {

    static final int SYNC_CALLERS = 3;
    static final int PHASE_CALLS = 20;

    @RegisterExtension
    final ClusterNodes.Scope clusters = new ClusterNodes.Scope();

    @TempDir
    Path work;

    @Test
    void aRollingRestartUnderLoadLosesNoAcceptedCall() throws Exception {
        ClusterNodes cluster = clusters.start(work, 3, "process");
        Api api = new Api(cluster);
        // Threads of their own: the common pool has as few threads as cores, and these callers block.
        ExecutorService threads = Executors.newCachedThreadPool();
        api.deploy(cluster.node(0).url(), "sleeper", "handler=com.example.Sleeper&maxConcurrency=8"
                + "&maxRetries=50&retryBackoff=50ms&maxRetryBackoff=500ms");

        LoadBalancer lb = LoadBalancer.over(cluster.nodes());
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger syncOk = new AtomicInteger();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        Map<String, String> servedBy = new ConcurrentHashMap<>();
        List<CompletableFuture<Void>> load = new ArrayList<>();
        for (int c = 0; c < SYNC_CALLERS; c++) {
            int caller = c;
            load.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; !stop.get(); i++) {
                    int ms = 10 + (caller * 7 + i) % 20;
                    try {
                        HttpResponse<String> r = lb.send(url -> api.syncRequest(url, "sleeper", "sleep " + ms),
                                Duration.ofMinutes(1));
                        if (r.statusCode() == 200 && r.body().equals("slept " + ms)) {
                            syncOk.incrementAndGet();
                            servedBy.merge(Api.servedBy(r), "", (x, y) -> x);
                        } else {
                            errors.add("sync call " + caller + "/" + i + ": " + r.statusCode() + " " + r.body());
                        }
                    } catch (IOException e) {
                        errors.add("sync call " + caller + "/" + i + ": " + e);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, threads));
        }
        Map<Integer, String> callIds = new ConcurrentHashMap<>();
        CompletableFuture<Void> submitter = CompletableFuture.runAsync(() -> {
            for (int i = 0; !stop.get(); i++) {
                int n = i;
                try {
                    HttpResponse<String> r = lb.send(url -> api.asyncRequest(url, "sleeper", "roll-" + n,
                            "sleep " + ms(n)), Duration.ofMinutes(1));
                    if (r.statusCode() == 202) {
                        callIds.put(n, Api.JSON.readTree(r.body()).get("callId").asText());
                    } else {
                        errors.add("async submit " + n + ": " + r.statusCode() + " " + r.body());
                    }
                    Thread.sleep(10);
                } catch (IOException e) {
                    errors.add("async submit " + n + ": " + e);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, threads);

        awaitMoreSyncCalls(syncOk, errors);
        for (GatewayProcess node : cluster.nodes()) {
            long t0 = System.nanoTime();
            assertEquals(0, node.stop(), node + " exits 0 after its drain");
            node.start();
            cluster.awaitLive(Duration.ofSeconds(30));
            System.out.println("[cluster] " + node + " restarted and seen live by all in "
                    + (System.nanoTime() - t0) / 1_000_000 + " ms; " + syncOk.get() + " sync calls so far");
            awaitMoreSyncCalls(syncOk, errors);
        }
        stop.set(true);
        CompletableFuture.allOf(load.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
        submitter.get(2, TimeUnit.MINUTES);
        lb.close();
        threads.shutdown();

        List<String> urls = cluster.nodes().stream().map(GatewayProcess::url).toList();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        for (Map.Entry<Integer, String> e : callIds.entrySet()) {
            JsonNode call = api.awaitCall(urls, e.getValue(), deadline);
            assertEquals("succeeded", call.get("state").asText(), call.toString());
            assertEquals("slept " + ms(e.getKey()), Api.resultText(call), call.toString());
            assertEquals(1, call.get("attemptLog").size(), "one attempt, not interrupted: " + call);
        }
        // Last, so that a failure here says the async side held.
        assertEquals(0, lb.dropped(), "no connection broke after a request was sent: " + lb);
        assertEquals(List.of(), List.copyOf(errors), "no accepted call got an error");
        System.out.println("[cluster] rolling restart of " + cluster.names() + ": " + syncOk.get()
                + " sync calls (served by " + servedBy.keySet() + ") and " + callIds.size()
                + " async calls, all succeeded; the client: " + lb);
    }

    private static void awaitMoreSyncCalls(AtomicInteger ok, ConcurrentLinkedQueue<String> errors)
            throws InterruptedException {
        int target = ok.get() + PHASE_CALLS;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (ok.get() < target) {
            assertTrue(System.nanoTime() < deadline, "20 sync calls did not succeed within 60 s; errors " + errors);
            Thread.sleep(10);
        }
    }

    static int ms(int i) {
        return 10 + i % 30;
    }
}
