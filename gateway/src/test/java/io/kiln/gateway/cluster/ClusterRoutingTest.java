package io.kiln.gateway.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.gateway.testing.ClusterNodes;
import io.kiln.gateway.testing.GatewayProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Three nodes on one PostgreSQL (process engine): a function deployed through node a answers the
 * same through b and c; repeated calls through all three run on one node, the function's home,
 * and say so in {@code X-Kiln-Node}; a call that finds the home at capacity runs on another node.
 */
class ClusterRoutingTest {

    @RegisterExtension
    final ClusterNodes.Scope clusters = new ClusterNodes.Scope();

    @TempDir
    Path work;

    @Test
    void callsGoHomeThroughAnyNodeAndOverflowWhenHomeIsBusy() throws Exception {
        ClusterNodes cluster = clusters.start(work, 3, "process");
        // One management token for the cluster, in every node's token file.
        for (GatewayProcess node : cluster.nodes()) {
            assertEquals(cluster.token(), node.token(), node + "'s token file");
        }
        Api api = new Api(cluster);
        String a = cluster.node(0).url();
        api.deploy(a, "upper", "handler=com.example.Upper");

        // Through every node, the same answer, from the same node.
        String home = api.callExpecting(a, "upper", "hello kiln", "HELLO KILN");
        cluster.indexOf(home);
        List<String> servedBy = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            GatewayProcess through = cluster.node(i % 3);
            servedBy.add(api.callExpecting(through.url(), "upper", "call " + i, "CALL " + i));
        }
        assertEquals(List.of(home), servedBy.stream().distinct().toList(),
                "20 calls through a, b and c all ran on the home node " + home + ": " + servedBy);

        // Overflow: one call at a time per node; a long one holds the home busy.
        api.deploy(cluster.node(1).url(), "sleeper", "handler=com.example.Sleeper&maxConcurrency=1");
        String sleeperHome = api.callExpecting(a, "sleeper", "sleep 1", "slept 1");
        GatewayProcess homeNode = cluster.node(sleeperHome);
        CompletableFuture<HttpResponse<String>> busy = api.http.sendAsync(
                api.syncRequest(homeNode.url(), "sleeper", "sleep 20000"), HttpResponse.BodyHandlers.ofString());
        awaitInFlight(api, homeNode, 1);
        // Now the home runs its one call: a call through each node, the home included, runs elsewhere.
        // One at a time: at once, two of them could find the other nodes busy too and wait where they came in.
        List<String> overflow = new ArrayList<>();
        for (GatewayProcess through : cluster.nodes()) {
            HttpResponse<String> r = api.call(through.url(), "sleeper", "sleep 2");
            assertFalse(busy.isDone(), "the home's 20 s call ended before the overflow calls: " + busy);
            assertEquals(200, r.statusCode(), "through " + through + ": " + r.body());
            assertEquals("slept 2", r.body());
            String node = Api.servedBy(r);
            assertNotEquals(sleeperHome, node, "a call through " + through + " while the home " + sleeperHome
                    + " was at capacity overflowed to another node");
            overflow.add(node);
        }
        HttpResponse<String> first = busy.get(60, TimeUnit.SECONDS);
        assertEquals(200, first.statusCode(), first.body());
        assertEquals("slept 20000", first.body());
        assertEquals(sleeperHome, Api.servedBy(first));
        System.out.println("[cluster] upper's home " + home + "; sleeper's home " + sleeperHome
                + ", overflow served by " + overflow);
    }

    /** Waits until {@code node}'s pool runs {@code n} calls ({@code /healthz} {@code pool.inFlight}). */
    static void awaitInFlight(Api api, GatewayProcess node, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        JsonNode health = null;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = api.http.send(HttpRequest.newBuilder(URI.create(node.url() + "/healthz"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            health = Api.JSON.readTree(r.body());
            if (health.path("pool").path("inFlight").asInt() == n) {
                return;
            }
            Thread.sleep(20);
        }
        fail(node + " did not run " + n + " calls within 30 s: " + health);
    }
}
