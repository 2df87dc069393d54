package io.kiln.gateway.cluster;

import io.kiln.gateway.testing.ClusterNodes;
import io.kiln.gateway.testing.GatewayProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The real engine on two nodes ({@code --engine qemu-tcg}; like the other QEMU tests it needs the
 * guest image, which ./test.sh builds, and is never skipped). Deployed through a; called through
 * b; then, while the home runs its one allowed call, a second call overflows to the other node,
 * which makes its own snapshot of the function on that first cold start (snapshots are per
 * host). Both nodes answer with the function's output.
 */
class ClusterQemuTest {

    @RegisterExtension
    final ClusterNodes.Scope clusters = new ClusterNodes.Scope();

    @TempDir
    Path work;

    @Test
    void twoQemuNodesEachRunTheFunction() throws Exception {
        ClusterNodes cluster = clusters.start(work, 2, "qemu-tcg", Duration.ofSeconds(120));
        Api api = new Api(cluster, Duration.ofMinutes(3));
        api.deploy(cluster.node(0).url(), "sleeper", "handler=com.example.Sleeper&maxConcurrency=1&timeout=2m",
                Duration.ofMinutes(5));
        String home = api.callExpecting(cluster.node(1).url(), "sleeper", "sleep 1", "slept 1");
        GatewayProcess homeNode = cluster.node(home);

        CompletableFuture<HttpResponse<String>> busy = api.http.sendAsync(
                api.syncRequest(homeNode.url(), "sleeper", "sleep 5000"), HttpResponse.BodyHandlers.ofString());
        ClusterRoutingTest.awaitInFlight(api, homeNode, 1);
        long t0 = System.nanoTime();
        String other = api.callExpecting(homeNode.url(), "sleeper", "sleep 2", "slept 2");
        assertNotEquals(home, other, "the call overflowed from the busy home " + home);
        long coldMs = (System.nanoTime() - t0) / 1_000_000;
        HttpResponse<String> first = busy.get(3, TimeUnit.MINUTES);
        assertEquals(200, first.statusCode(), first.body());
        assertEquals("slept 5000", first.body());
        assertEquals(home, Api.servedBy(first));
        System.out.println("[cluster] qemu-tcg: home " + home + ", overflow to " + other + " in " + coldMs
                + " ms (its first cold start there)");
    }
}
