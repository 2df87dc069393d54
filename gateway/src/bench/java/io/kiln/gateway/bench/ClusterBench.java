package io.kiln.gateway.bench;

import io.kiln.agent.testing.Fixtures;
import io.kiln.gateway.testing.ClusterNodes;
import io.kiln.gateway.testing.GatewayProcess;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Sync calls of a no-op function (Echo, empty body) through 1, 2 and 3 nodes on one PostgreSQL
 * (process engine, each node a process of its own, {@link ClusterNodes}), from one client that
 * spreads its calls round robin over the nodes as a plain HTTP load balancer would, with
 * {@code --callers} concurrent callers (16). For each cluster size: a warm-up, then
 * {@code --seconds} (20) of measurement; calls/s, latency p50/p99, and which nodes ran the calls
 * ({@code X-Kiln-Node}). With one function every call runs on its home node, so the other nodes
 * forward; {@code --functions N} deploys N copies, whose homes spread over the nodes.
 *
 * <pre>  bench/cluster.sh [--nodes 1,2,3] [--callers 16] [--seconds 20] [--warmup 5] [--functions 1] [--out file.md]</pre>
 */
public final class ClusterBench {

    public static void main(String[] args) throws Exception {
        List<Integer> sizes = List.of(1, 2, 3);
        int callers = 16;
        int seconds = 20;
        int warmup = 5;
        int functions = 1;
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--nodes" -> sizes = Arrays.stream(args[++i].split(",")).map(Integer::parseInt).toList();
                case "--callers" -> callers = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--functions" -> functions = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        StringBuilder table = new StringBuilder("| nodes | calls/s | p50 | p99 | errors | calls run per node |\n"
                + "|---|---|---|---|---|---|\n");
        for (int n : sizes) {
            Result r = run(n, callers, seconds, warmup, functions);
            table.append(String.format(Locale.ROOT, "| %d | %.0f | %.1f ms | %.1f ms | %d | %s |%n", n,
                    r.callsPerSecond, r.p50Ms, r.p99Ms, r.errors, r.perNode));
        }
        String report = "Sync calls of a no-op function through a cluster (process engine, one PostgreSQL, "
                + callers + " callers round robin over the nodes, " + functions + " function(s), " + seconds
                + " s each after " + warmup + " s of warm-up), " + Instant.now() + ", "
                + Runtime.getRuntime().availableProcessors() + " cores\n\n" + table;
        System.out.println(report);
        if (out != null) {
            Files.writeString(out, report);
        }
        System.exit(0);
    }

    record Result(double callsPerSecond, double p50Ms, double p99Ms, long errors, Map<String, Integer> perNode) {
    }

    static Result run(int nodes, int callers, int seconds, int warmup, int functions) throws Exception {
        Path work = Files.createTempDirectory("kiln-cluster-bench-");
        ClusterNodes cluster = ClusterNodes.start(work, nodes, "process");
        boolean failed = true;
        try {
            String token = cluster.token();
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            for (int f = 0; f < functions; f++) {
                HttpResponse<String> d = http.send(HttpRequest.newBuilder(URI.create(cluster.node(0).url()
                                + "/v1/functions/noop-" + f + "?handler=com.example.Echo&memory=128&maxConcurrency=16&minInstances=1"))
                        .header("Authorization", "Bearer " + token).header("Content-Type", "application/java-archive")
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(Fixtures.functions())).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (d.statusCode() != 201) {
                    throw new IllegalStateException("deploy: " + d.statusCode() + " " + d.body());
                }
            }
            List<String> urls = cluster.nodes().stream().map(GatewayProcess::url).toList();
            // The other nodes adopt the deploys from the shared catalog within a moment.
            for (int f = 0; f < functions; f++) {
                for (String url : urls) {
                    awaitFunction(http, token, url, "noop-" + f);
                }
            }
            load(http, token, urls, functions, callers, warmup, null);
            Stats s = new Stats();
            load(http, token, urls, functions, callers, seconds, s);
            long[] lat = s.latencies();
            Arrays.sort(lat);
            Result r = new Result(lat.length / (double) seconds, lat.length == 0 ? 0 : lat[lat.length / 2] / 1e6,
                    lat.length == 0 ? 0 : lat[(int) Math.ceil(lat.length * 0.99) - 1] / 1e6, s.errors.sum(),
                    new TreeMap<>(s.perNode));
            System.out.println("[bench] " + nodes + " node(s): " + r + (s.firstError == null ? ""
                    : "; first error: " + s.firstError));
            failed = false;
            return r;
        } finally {
            cluster.close(failed);
        }
    }

    static void awaitFunction(HttpClient http, String token, String url, String name) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/functions/" + name))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(url + " does not have " + name + " 30 s after its deploy: "
                        + r.statusCode() + " " + r.body());
            }
            Thread.sleep(50);
        }
    }

    static final class Stats {
        final LongAdder errors = new LongAdder();
        volatile String firstError;
        final Map<String, Integer> perNode = new ConcurrentHashMap<>();
        final List<long[]> perCaller = new ArrayList<>();
        final List<AtomicInteger> counts = new ArrayList<>();

        synchronized void addCaller(long[] buffer, AtomicInteger count) {
            perCaller.add(buffer);
            counts.add(count);
        }

        long[] latencies() {
            int total = counts.stream().mapToInt(AtomicInteger::get).sum();
            long[] all = new long[total];
            int k = 0;
            for (int c = 0; c < perCaller.size(); c++) {
                int n = counts.get(c).get();
                System.arraycopy(perCaller.get(c), 0, all, k, n);
                k += n;
            }
            return all;
        }
    }

    /** {@code callers} threads calling round robin over {@code urls} for {@code seconds}; recorded into {@code s} if given. */
    static void load(HttpClient http, String token, List<String> urls, int functions, int callers, int seconds,
                     Stats s) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        for (int c = 0; c < callers; c++) {
            long[] buffer = new long[s == null ? 0 : 200_000];
            AtomicInteger count = new AtomicInteger();
            if (s != null) {
                s.addCaller(buffer, count);
            }
            pool.execute(() -> {
                Map<String, Integer> seen = new TreeMap<>();
                while (!stop.get()) {
                    int k = next.getAndIncrement();
                    String url = urls.get(Math.floorMod(k, urls.size()));
                    String fn = "noop-" + Math.floorMod(k / urls.size(), functions);
                    long t0 = System.nanoTime();
                    try {
                        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(url + "/function/" + fn))
                                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(30))
                                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
                        long t = System.nanoTime() - t0;
                        if (s == null || stop.get()) {
                            continue;
                        }
                        if (r.statusCode() != 200) {
                            if (s.firstError == null) {
                                s.firstError = url + " " + fn + ": HTTP " + r.statusCode(); // one is enough to say why
                            }
                            s.errors.increment();
                            continue;
                        }
                        int n = count.get();
                        if (n < buffer.length) {
                            buffer[n] = t;
                            count.set(n + 1);
                        }
                        seen.merge(r.headers().firstValue("X-Kiln-Node").orElse("?"), 1, Integer::sum);
                    } catch (Exception e) {
                        if (s != null) {
                            if (s.firstError == null) {
                                s.firstError = url + " " + fn + ": " + e;
                            }
                            s.errors.increment();
                        }
                    }
                }
                if (s != null) {
                    seen.forEach((node, n) -> s.perNode.merge(node, n, Integer::sum));
                }
            });
        }
        Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
        stop.set(true);
        pool.shutdown();
        if (!pool.awaitTermination(1, TimeUnit.MINUTES)) {
            throw new IllegalStateException("callers did not stop");
        }
    }
}
