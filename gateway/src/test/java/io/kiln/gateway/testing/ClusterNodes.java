package io.kiln.gateway.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kiln.queue.testing.PostgresServer;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A cluster on one machine: N gateway processes ({@link GatewayProcess}) on free loopback ports,
 * named {@code node-a}, {@code node-b}, ..., each with its own data directory under the work
 * directory, all on one fresh PostgreSQL database ({@link PostgresServer#freshDatabase}), so they
 * are in cluster mode. Started in parallel; {@link #close} stops them all (SIGTERM) and, when
 * asked, prints each node's log tail.
 *
 * <p>In a test, let a {@link Scope} own the clusters: it closes them after each test and prints the
 * logs when the test failed.
 */
public final class ClusterNodes implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String queueUrl;
    private final List<String> names;
    private final List<GatewayProcess> nodes;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private ClusterNodes(String queueUrl, List<String> names, List<GatewayProcess> nodes) {
        this.queueUrl = queueUrl;
        this.names = names;
        this.nodes = nodes;
    }

    /**
     * Starts {@code n} nodes on {@code engine} under {@code work} ({@code work/node-a}, ...), with
     * {@code extraArgs} after each one's own flags, and waits until every one answers
     * {@code /healthz} and lists all {@code n} nodes live ({@link #awaitLive}).
     */
    public static ClusterNodes start(Path work, int n, String engine, String... extraArgs) throws Exception {
        return start(work, n, engine, Duration.ofSeconds(60), extraArgs);
    }

    public static ClusterNodes start(Path work, int n, String engine, Duration startTimeout, String... extraArgs)
            throws Exception {
        String queueUrl = PostgresServer.shared().freshDatabase("cluster");
        List<String> names = new ArrayList<>();
        List<GatewayProcess> nodes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String name = "node-" + (char) ('a' + i);
            int port = GatewayProcess.freePort();
            List<String> args = new ArrayList<>(List.of("--node", name, "--advertise-url", "http://127.0.0.1:" + port));
            args.addAll(List.of(extraArgs));
            names.add(name);
            nodes.add(new GatewayProcess(work.resolve(name), port, engine, queueUrl, args)
                    .withStartTimeout(startTimeout));
        }
        ClusterNodes cluster = new ClusterNodes(queueUrl, List.copyOf(names), List.copyOf(nodes));
        try {
            cluster.startAll();
            cluster.awaitLive(Duration.ofSeconds(30));
        } catch (Exception | AssertionError e) {
            cluster.close(true);
            throw e;
        }
        return cluster;
    }

    /** Starts every node at once and waits for each one's {@code /healthz}; the first failure is thrown. */
    private void startAll() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(nodes.size());
        try {
            List<Future<Void>> started = new ArrayList<>();
            for (GatewayProcess node : nodes) {
                started.add(pool.submit(() -> {
                    node.start();
                    return null;
                }));
            }
            for (Future<Void> f : started) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause() instanceof Exception x ? x : e;
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    public List<GatewayProcess> nodes() {
        return nodes;
    }

    public GatewayProcess node(int i) {
        return nodes.get(i);
    }

    public int size() {
        return nodes.size();
    }

    /** Node {@code i}'s {@code --node} name: {@code node-a}, {@code node-b}, ... */
    public String name(int i) {
        return names.get(i);
    }

    public List<String> names() {
        return names;
    }

    /** The index of the node called {@code name}; an {@link AssertionError} for a name not in the cluster. */
    public int indexOf(String name) {
        int i = names.indexOf(name);
        if (i < 0) {
            throw new AssertionError("no node called \"" + name + "\" in " + names);
        }
        return i;
    }

    public GatewayProcess node(String name) {
        return nodes.get(indexOf(name));
    }

    public String queueUrl() {
        return queueUrl;
    }

    /** The cluster's management token: every node's token file holds it, so node a's is read. */
    public String token() throws IOException {
        return nodes.get(0).token();
    }

    /**
     * Waits until every running node's {@code /healthz} lists exactly the running nodes as live
     * (its {@code nodes} array: {@code node} and {@code live}), so that routing sees the whole
     * cluster. Call it after starting or restarting a node, and after a kill.
     */
    public void awaitLive(Duration timeout) throws IOException, InterruptedException {
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i).alive()) {
                expected.add(names.get(i));
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (true) {
            boolean all = true;
            for (GatewayProcess node : nodes) {
                if (!node.alive()) {
                    continue;
                }
                List<String> live = liveAsSeenBy(node);
                if (!live.equals(expected)) {
                    all = false;
                    last = node.url() + " sees " + live;
                    break;
                }
            }
            if (all) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the nodes did not all see " + expected + " live within " + timeout
                        + ": " + last);
            }
            Thread.sleep(100);
        }
    }

    /** The live nodes in {@code node}'s {@code /healthz}, sorted by name; empty if it does not answer. */
    public List<String> liveAsSeenBy(GatewayProcess node) throws InterruptedException {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(node.url() + "/healthz"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            JsonNode list = JSON.readTree(r.body()).path("nodes");
            List<String> live = new ArrayList<>();
            for (JsonNode n : list) {
                if (n.path("live").asBoolean()) {
                    live.add(n.path("node").asText());
                }
            }
            live.sort(String::compareTo);
            return live;
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Stops every node (SIGTERM, in parallel); no logs printed. */
    @Override
    public void close() {
        close(false);
    }

    /** Stops every node (SIGTERM, in parallel), then prints each one's log tail if {@code printLogs}. */
    public void close(boolean printLogs) {
        List<Thread> stops = new ArrayList<>();
        for (GatewayProcess node : nodes) {
            Thread t = new Thread(() -> {
                try {
                    node.stop();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "stop-" + node.port());
            t.start();
            stops.add(t);
        }
        for (Thread t : stops) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (printLogs) {
            for (int i = 0; i < nodes.size(); i++) {
                System.out.println("[cluster] " + names.get(i) + " (" + nodes.get(i).url() + ") log tail:\n"
                        + nodes.get(i).tail(80));
            }
        }
    }

    /**
     * Owns the clusters a test starts: {@code @RegisterExtension final ClusterNodes.Scope clusters =
     * new ClusterNodes.Scope();} then {@code clusters.start(...)}. After each test it closes them,
     * printing the nodes' log tails if the test failed.
     */
    public static final class Scope implements AfterEachCallback {
        private final List<ClusterNodes> open = new CopyOnWriteArrayList<>();

        public ClusterNodes start(Path work, int n, String engine, String... extraArgs) throws Exception {
            return add(ClusterNodes.start(work, n, engine, extraArgs));
        }

        public ClusterNodes start(Path work, int n, String engine, Duration startTimeout, String... extraArgs)
                throws Exception {
            return add(ClusterNodes.start(work, n, engine, startTimeout, extraArgs));
        }

        private ClusterNodes add(ClusterNodes c) {
            open.add(c);
            return c;
        }

        @Override
        public void afterEach(ExtensionContext context) {
            boolean failed = context.getExecutionException().isPresent();
            for (ClusterNodes c : open) {
                c.close(failed);
            }
            open.clear();
        }
    }
}
