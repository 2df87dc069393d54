package io.kiln.gateway.bench;

import io.kiln.agent.testing.Fixtures;
import io.kiln.bench.report.ScenarioResult;
import io.kiln.gateway.Gateway;
import io.kiln.gateway.GatewayConfig;
import io.kiln.microvm.files.FileTrees;
import io.kiln.microvm.probe.KvmProbe;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where the time of a warm call goes: the client's latency through the gateway, split by the
 * gateway's Server-Timing into the gateway's own time and the invoker's (queue, start, invoke:
 * INVOKE sent to the answer, which is the VM, the agent and the function), against a bare
 * Vert.x handler in the same JVM answering the same body to the same client. 1, 2 and 8
 * concurrent clients, each in a closed loop.
 *
 * <pre>
 *   bench/gateway.sh [--engine auto|process|...] [--calls N] [--clients 1,8,32] [--jar J --handler H] [--out file.md]
 *                    [--json FILE] [--quick]
 * </pre>
 *
 * {@code --json} also writes the results as a {@link ScenarioResult} (scenario {@code gateway}) for
 * {@code bench/run-all.sh}: the latency metrics are the first client count's (the least
 * contended), throughput rows one per client count. {@code --quick}: 200 calls per row, unless
 * {@code --calls} says otherwise.
 */
public final class GatewayBench {

    private static final Pattern TIMING = Pattern.compile("(\\w+);dur=([0-9.]+)");

    public static void main(String[] args) throws Exception {
        java.time.Instant started = java.time.Instant.now();
        String engine = "auto";
        Integer callsGiven = null;
        boolean quick = false;
        Path json = null;
        Path jar = null;
        String handler = "com.example.Upper";
        String body = "Ada";
        Path out = null;
        int[] clients = {1, 2, 8};
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--engine" -> engine = args[++i];
                case "--calls" -> callsGiven = Integer.parseInt(args[++i]);
                case "--json" -> json = Path.of(args[++i]);
                case "--quick" -> quick = true;
                case "--jar" -> jar = Path.of(args[++i]);
                case "--handler" -> handler = args[++i];
                case "--out" -> out = Path.of(args[++i]);
                case "--clients" -> clients = java.util.Arrays.stream(args[++i].split(","))
                        .mapToInt(Integer::parseInt).toArray();
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        int calls = callsGiven != null ? callsGiven : quick ? 200 : 2000;
        // Quick runs warm up less too: the pool is warm after one call per instance.
        int warmupCalls = quick ? Math.max(50, calls / 4) : Math.max(400, calls / 4);
        byte[] jarBytes = jar == null ? Fixtures.functions() : Files.readAllBytes(jar);
        String jarName = jar == null ? "the agent fixtures' jar" : jar.toString();
        Path data = Files.createTempDirectory("kiln-gateway-bench-");
        GatewayConfig c = GatewayConfig.defaults(data).withListen("127.0.0.1", 0);
        Gateway gateway = Gateway.start(c.withInvoker(c.invoker().withEngine(engine).withMemoryBudgetMib(4096)));
        Vertx bareVertx = Vertx.vertx();
        byte[] answer = ("Hello, " + body + "!").getBytes();
        HttpServer bare = bareVertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b ->
                req.response().putHeader("Content-Type", "text/plain; charset=utf-8").end(Buffer.buffer(answer))))
                .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        try {
            String token = gateway.token().token();
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            long t0 = System.nanoTime();
            HttpResponse<String> deployed = client.send(HttpRequest.newBuilder(URI.create(gateway.url()
                            + "/v1/functions/hello?handler=" + handler + "&memory=256&maxConcurrency=8&maxInstances=8"
                            + "&minInstances=8"))
                    .header("Authorization", "Bearer " + token)
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(jarBytes)).build(), HttpResponse.BodyHandlers.ofString());
            if (deployed.statusCode() / 100 != 2) {
                throw new IllegalStateException("deploy failed: " + deployed.body());
            }
            System.err.println("[bench] deployed hello (" + handler + ") in " + (System.nanoTime() - t0) / 1_000_000
                    + " ms on " + gateway.invoker().engine().engine().name());
            // minInstances=8: wait until the pool holds them all, so every measured call is warm.
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (gateway.invoker().state("hello").live() < 8 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            HttpRequest call = HttpRequest.newBuilder(URI.create(gateway.url() + "/function/hello"))
                    .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofString(body)).build();
            HttpRequest bareCall = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + bare.actualPort()
                    + "/function/hello")).header("Authorization", "Bearer " + token)
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();

            List<Row> rows = new ArrayList<>();
            for (int n : clients) {
                // Warm-up: every instance, the JIT of both servers and the client.
                run(client, call, n, warmupCalls);
                run(client, bareCall, n, warmupCalls);
                // Measured, alternating so drift on the host hits both alike.
                Map<String, List<Double>> g = new LinkedHashMap<>();
                Map<String, List<Double>> b = new LinkedHashMap<>();
                long gatewayNanos = 0;
                long bareNanos = 0;
                for (int round = 0; round < 4; round++) {
                    long s = System.nanoTime();
                    merge(g, run(client, call, n, calls / 4));
                    long m = System.nanoTime();
                    merge(b, run(client, bareCall, n, calls / 4));
                    gatewayNanos += m - s;
                    bareNanos += System.nanoTime() - m;
                }
                rows.add(new Row(n, g, b, g.get("client").size() * 1e9 / gatewayNanos,
                        b.get("client").size() * 1e9 / bareNanos));
            }
            String report = report(rows, gateway, engine, calls, warmupCalls, jarName, handler);
            System.out.println(report);
            if (out != null) {
                Files.writeString(out, report);
            }
            if (json != null) {
                result(rows, gateway, engine, calls, warmupCalls, quick, handler).startedAt(started).table(report).build()
                        .write(json);
                System.err.println("[bench] JSON written to " + json.toAbsolutePath());
            }
        } finally {
            bareVertx.close();
            gateway.shutdown(Duration.ofSeconds(10));
            FileTrees.deleteQuietly(data);
        }
    }

    /** Throughputs are measured calls over the wall time of the rounds that made them. */
    record Row(int clients, Map<String, List<Double>> gateway, Map<String, List<Double>> bare,
               double gatewayCallsPerSecond, double bareCallsPerSecond) {
    }

    private static void merge(Map<String, List<Double>> into, Map<String, List<Double>> more) {
        more.forEach((k, v) -> into.computeIfAbsent(k, x -> new ArrayList<>()).addAll(v));
    }

    /**
     * {@code n} clients, {@code total} calls between them, each client in a closed loop. Per
     * call: the client's latency ("client", ms) and every Server-Timing phase.
     */
    private static Map<String, List<Double>> run(HttpClient client, HttpRequest request, int n, int total)
            throws InterruptedException {
        Map<String, List<Double>> samples = new LinkedHashMap<>();
        List<Map<String, List<Double>>> perThread = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(n);
        List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int t = 0; t < n; t++) {
            Map<String, List<Double>> mine = new LinkedHashMap<>();
            perThread.add(mine);
            int count = total / n;
            Thread th = new Thread(() -> {
                try {
                    for (int i = 0; i < count; i++) {
                        long s = System.nanoTime();
                        HttpResponse<byte[]> r = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
                        long e = System.nanoTime();
                        if (r.statusCode() != 200) {
                            throw new IllegalStateException("HTTP " + r.statusCode() + ": " + new String(r.body()));
                        }
                        double clientMs = (e - s) / 1e6;
                        mine.computeIfAbsent("client", k -> new ArrayList<>()).add(clientMs);
                        r.headers().firstValue("Server-Timing").ifPresent(st -> {
                            Matcher m = TIMING.matcher(st);
                            double invoker = 0;
                            while (m.find()) {
                                double v = Double.parseDouble(m.group(2));
                                mine.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(v);
                                if (m.group(1).equals("total")) {
                                    mine.computeIfAbsent("outside", k -> new ArrayList<>()).add(clientMs - v);
                                } else if (!m.group(1).equals("gateway")) {
                                    invoker += v;
                                }
                            }
                            mine.computeIfAbsent("invoker", k -> new ArrayList<>()).add(invoker);
                        });
                        if (r.headers().firstValue("X-Kiln-Start").map("cold"::equals).orElse(false)) {
                            mine.computeIfAbsent("coldCalls", k -> new ArrayList<>()).add(1.0);
                        }
                    }
                } catch (Throwable x) {
                    errors.add(x);
                } finally {
                    done.countDown();
                }
            }, "bench-client-" + t);
            th.start();
        }
        done.await();
        if (!errors.isEmpty()) {
            throw new IllegalStateException("a client failed", errors.get(0));
        }
        perThread.forEach(m -> merge(samples, m));
        return samples;
    }

    static double pct(List<Double> xs, double p) {
        if (xs == null || xs.isEmpty()) {
            return Double.NaN;
        }
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        int rank = (int) Math.ceil(p / 100.0 * s.size());
        return s.get(Math.max(0, Math.min(s.size() - 1, rank - 1)));
    }

    /**
     * The scenario's result: engine {@code vertx} is the bare handler, the other the gateway on
     * the invoker's engine. Latencies of the first client count; throughput at every count.
     */
    private static ScenarioResult.Builder result(List<Row> rows, Gateway gateway, String requested, int calls,
                                                 int warmupCalls, boolean quick, String handler) {
        String engine = gateway.invoker().engine().engine().name();
        Row first = rows.get(0);
        ScenarioResult.Builder r = ScenarioResult.builder("gateway",
                        "A warm call through the gateway, phase by phase, against a bare Vert.x handler", "host")
                .quick(quick).parameter("calls", calls).parameter("warmupCalls", warmupCalls)
                .parameter("clients", rows.stream().map(Row::clients).toList()).parameter("latencyClients", first.clients())
                .parameter("handler", handler).parameter("requestedEngine", requested)
                .environment("engine", engine + ": " + gateway.invoker().engine().reason())
                .environment("kvm", KvmProbe.probeHost().toString());
        r.sampled("client-latency", "client latency, bare Vert.x handler", "vertx", "ms", array(first.bare.get("client")));
        r.sampled("client-latency", "client latency through the gateway", engine, "ms", array(first.gateway.get("client")));
        optional(r, "gateway-own", "the gateway's own time (Server-Timing gateway)", engine, first.gateway.get("gateway"));
        optional(r, "invoker", "invoker + VM (Server-Timing queue + start + invoke)", engine, first.gateway.get("invoker"));
        optional(r, "vm", "INVOKE sent to the answer: VM, agent and function (Server-Timing invoke)", engine,
                first.gateway.get("invoke"));
        optional(r, "queue", "admission to dispatch (Server-Timing queue)", engine, first.gateway.get("queue"));
        optional(r, "outside", "outside the server total: parse, write, network, client", engine,
                first.gateway.get("outside"));
        for (Row row : rows) {
            r.throughput(throughput(engine, row.clients(), row.gatewayCallsPerSecond(), row.gateway.get("client")));
            r.throughput(throughput("vertx", row.clients(), row.bareCallsPerSecond(), row.bare.get("client")));
            List<Double> cold = row.gateway.get("coldCalls");
            if (cold != null) {
                r.note(cold.size() + " of the measured calls at " + row.clients() + " clients were cold starts.");
            }
        }
        if (first.gateway.get("gateway") == null) {
            r.note("The gateway sent no Server-Timing header: only client latencies were measured.");
        }
        return r;
    }

    private static void optional(ScenarioResult.Builder r, String id, String label, String engine, List<Double> xs) {
        if (xs != null && !xs.isEmpty()) {
            r.sampled(id, label, engine, "ms", array(xs));
        }
    }

    private static ScenarioResult.Throughput throughput(String engine, int clients, double perSecond, List<Double> ms) {
        return new ScenarioResult.Throughput(engine, clients, perSecond, ms.size(), pct(ms, 50), pct(ms, 99), pct(ms, 99.9));
    }

    private static double[] array(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static String report(List<Row> rows, Gateway gateway, String engine, int calls, int warmupCalls, String jar,
                                 String handler)
            throws IOException {
        StringBuilder b = new StringBuilder();
        String cpu = cpuModel();
        b.append("- Date: ").append(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)).append('\n');
        b.append("- Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores, ").append(cpu)
                .append(", ").append(memory()).append('\n');
        b.append("- Engine: `").append(gateway.invoker().engine().engine().name()).append("` (requested `")
                .append(engine).append("`): ").append(gateway.invoker().engine().reason()).append('\n');
        b.append("- KVM: ").append(KvmProbe.probeHost()).append('\n');
        b.append("- JDK: ").append(System.getProperty("java.vm.name")).append(' ')
                .append(System.getProperty("java.vm.version")).append('\n');
        b.append("- Function: `").append(handler).append("` from ").append(jar)
                .append(", 256 MiB, 8 warm instances (minInstances=8); body `Ada`\n");
        b.append("- ").append(calls).append(" measured calls per row and target, after ")
                .append(warmupCalls).append(" warm-up calls; gateway and bare handler alternate in 4 rounds."
                        + " Percentiles nearest-rank, in ms.\n\n");
        b.append("| clients | measure | p50 ms | p99 ms |\n|---:|---|---:|---:|\n");
        for (Row r : rows) {
            line(b, r.clients, "client latency through the gateway", r.gateway.get("client"));
            line(b, r.clients, "&nbsp;&nbsp;gateway's own time (Server-Timing `gateway`)", r.gateway.get("gateway"));
            line(b, r.clients, "&nbsp;&nbsp;invoker + VM (`queue` + `start` + `invoke`)", r.gateway.get("invoker"));
            line(b, r.clients, "&nbsp;&nbsp;&nbsp;&nbsp;of which `invoke` (INVOKE sent to answer)", r.gateway.get("invoke"));
            line(b, r.clients, "&nbsp;&nbsp;&nbsp;&nbsp;of which `queue` (admission to dispatch)", r.gateway.get("queue"));
            line(b, r.clients, "&nbsp;&nbsp;server total (Server-Timing `total`)", r.gateway.get("total"));
            line(b, r.clients, "&nbsp;&nbsp;outside the server total (client − `total`: parse, write, network, client)",
                    r.gateway.get("outside"));
            line(b, r.clients, "client latency, bare Vert.x handler", r.bare.get("client"));
            double overhead = pct(r.gateway.get("client"), 50) - pct(r.gateway.get("invoker"), 50)
                    - pct(r.bare.get("client"), 50);
            b.append("| ").append(r.clients).append(" | gateway overhead over the bare handler (p50 client − p50 invoker − p50 bare) | ")
                    .append(String.format(Locale.ROOT, "%.3f", overhead)).append(" | |\n");
            b.append(String.format(Locale.ROOT, "| %d | warm calls/s through the gateway | %.0f | |%n", r.clients,
                    r.gatewayCallsPerSecond));
            b.append(String.format(Locale.ROOT, "| %d | calls/s, bare Vert.x handler | %.0f | |%n", r.clients,
                    r.bareCallsPerSecond));
            List<Double> cold = r.gateway.get("coldCalls");
            if (cold != null) {
                b.append("| ").append(r.clients).append(" | cold calls among the measured | ").append(cold.size())
                        .append(" | |\n");
            }
        }
        return b.toString();
    }

    private static void line(StringBuilder b, int clients, String what, List<Double> xs) {
        b.append(String.format(Locale.ROOT, "| %d | %s | %.3f | %.3f |%n", clients, what, pct(xs, 50), pct(xs, 99)));
    }

    private static String cpuModel() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name")).findFirst().map(l -> l.substring(l.indexOf(':') + 1)
                    .strip()).orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }

    private static String memory() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/meminfo"))) {
            return lines.filter(l -> l.startsWith("MemTotal")).findFirst().map(l -> {
                long kb = Long.parseLong(l.replaceAll("\\D", ""));
                return Math.round(kb / 1024.0 / 1024.0) + " GiB RAM";
            }).orElse("");
        } catch (IOException e) {
            return "";
        }
    }
}
