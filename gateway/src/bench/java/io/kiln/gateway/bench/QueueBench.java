package io.kiln.gateway.bench;

import io.kiln.agent.testing.Fixtures;
import io.kiln.bench.report.ScenarioResult;
import io.kiln.gateway.Gateway;
import io.kiln.gateway.GatewayConfig;
import io.kiln.invoker.call.CallRequest;
import io.kiln.microvm.files.FileTrees;
import io.kiln.queue.Attempt;
import io.kiln.queue.QueueItem;
import io.kiln.queue.QueueStore;
import io.kiln.queue.db.Database;
import io.kiln.queue.testing.PostgresServer;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The durable queue through a no-op function (Echo, empty body, process engine: the queue is what
 * is measured), on the embedded store and on PostgreSQL side by side in one run:
 * <ul>
 *   <li>enqueue → start: from an accepted async call's commit to its first attempt's claim, at a
 *       light paced load (50 calls/s), p50/p99 (the store keeps milliseconds);</li>
 *   <li>throughput: {@code --calls} async calls submitted by 8 concurrent clients as fast as they
 *       are accepted; accepted/s, and calls/s from the first submit to the last call's end.</li>
 * </ul>
 *
 * <pre>  bench/queue.sh [--calls N] [--stores sqlite,postgres] [--out file.md] [--json FILE] [--quick]
 *                 [--paced N] [--warmup N]</pre>
 *
 * {@code --json} also writes a {@link ScenarioResult} (scenario {@code queue}, engines
 * {@code sqlite} and {@code postgres}) for {@code bench/run-all.sh}; {@code --quick} takes 500
 * throughput calls (unless {@code --calls} is given), 100 paced ones and 100 warm-up calls. A
 * store that cannot start (no PostgreSQL here) is left out with a note, and the exit status is 3.
 */
public final class QueueBench {

    public static void main(String[] args) throws Exception {
        System.exit(execute(args));
    }

    /** Runs the benchmark as {@link #main} does; returns the exit status instead of exiting. */
    static int execute(String[] args) throws Exception {
        Integer callsGiven = null;
        Integer pacedGiven = null;
        Integer warmupGiven = null;
        boolean quick = false;
        List<String> stores = List.of("sqlite", "postgres");
        Path out = null;
        Path json = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--calls" -> callsGiven = Integer.parseInt(args[++i]);
                case "--stores" -> stores = List.of(args[++i].split(","));
                case "--out" -> out = Path.of(args[++i]);
                case "--json" -> json = Path.of(args[++i]);
                case "--quick" -> quick = true;
                case "--paced" -> pacedGiven = Integer.parseInt(args[++i]);
                case "--warmup" -> warmupGiven = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Load defaults = quick ? new Load(500, 100, 100) : new Load(5000, 500, 300);
        Load load = new Load(callsGiven != null ? callsGiven : defaults.calls(),
                pacedGiven != null ? pacedGiven : defaults.paced(), warmupGiven != null ? warmupGiven : defaults.warmup());
        ScenarioResult.Builder result = ScenarioResult.builder("queue",
                        "The durable queue through a no-op function (process engine): embedded SQLite vs PostgreSQL", "host")
                .quick(quick).parameter("calls", load.calls()).parameter("pacedCalls", load.paced())
                .parameter("pacedPerSecond", 50).parameter("warmupCalls", load.warmup()).parameter("clients", CLIENTS)
                .parameter("stores", stores);
        StringBuilder table = new StringBuilder("| store | enqueue → start p50 | p99 | accepted/s (" + CLIENTS + " clients) "
                + "| end-to-end calls/s | calls |\n|---|---|---|---|---|---|\n");
        boolean missing = false;
        for (String store : stores) {
            Result r;
            try {
                r = run(store, load);
            } catch (Exception | Error e) {
                if (json == null) {
                    throw e;
                }
                // One store that cannot run must not lose the other's numbers; the report says why.
                System.err.println("[bench] " + store + " not run: " + e);
                result.note(store + " not run: " + e);
                missing = true;
                continue;
            }
            table.append(String.format(Locale.ROOT, "| %s | %d ms | %d ms | %.0f | %.0f | %d |%n", r.store, r.p50(),
                    r.p99(), r.acceptedPerSecond, r.endToEndPerSecond, load.calls()));
            result.environment(store, r.store);
            result.sampled("enqueue-to-start", "accepted call's commit → its first attempt's claim, paced at 50 calls/s",
                    store, "ms", r.waitsMs());
            result.throughput(new ScenarioResult.Throughput(store, CLIENTS, r.endToEndPerSecond, load.calls(),
                    pct(r.endToEndMs(), 50), pct(r.endToEndMs(), 99), pct(r.endToEndMs(), 99.9)));
            result.note(String.format(Locale.ROOT, "%s: %.0f calls/s accepted by %d clients; throughput is first submit"
                    + " to the last call's end, its latencies each call's commit to its end.", store,
                    r.acceptedPerSecond, CLIENTS));
        }
        String report = "Queue through a no-op function (process engine), " + Instant.now() + ", "
                + Runtime.getRuntime().availableProcessors() + " cores\n\n" + table;
        System.out.println(report);
        if (out != null) {
            Files.writeString(out, report);
        }
        if (json != null) {
            result.note("The store keeps milliseconds: enqueue → start is in whole ms.");
            result.table(table.toString()).build().write(json);
            System.err.println("[bench] JSON written to " + json.toAbsolutePath());
        }
        return missing ? 3 : 0;
    }

    private static final int CLIENTS = 8;

    /** How many calls: measured for throughput, paced for enqueue → start, and to warm up. */
    record Load(int calls, int paced, int warmup) {
    }

    /**
     * One store's numbers: enqueue → start of the paced calls, and the throughput run's rates and
     * per-call commit → end, in ms.
     */
    record Result(String store, double[] waitsMs, double acceptedPerSecond, double endToEndPerSecond,
                  double[] endToEndMs) {
        long p50() {
            return (long) pct(waitsMs, 50);
        }

        long p99() {
            return (long) pct(waitsMs, 99);
        }
    }

    /** Nearest rank, as the table always had it. */
    static double pct(double[] xs, double p) {
        double[] s = xs.clone();
        java.util.Arrays.sort(s);
        int rank = (int) Math.ceil(p / 100.0 * s.length);
        return s[Math.max(0, Math.min(s.length - 1, rank - 1))];
    }

    static Result run(String store, Load load) throws Exception {
        Path data = Files.createTempDirectory("kiln-queue-bench-");
        String url = switch (store) {
            case "sqlite" -> Database.sqliteUrl(data);
            case "postgres" -> PostgresServer.shared().freshDatabase("bench");
            default -> throw new IllegalArgumentException("stores are sqlite and postgres, got " + store);
        };
        GatewayConfig c = GatewayConfig.defaults(data).withListen("127.0.0.1", 0);
        c = c.withInvoker(c.invoker().withEngine("process").withMemoryBudgetMib(4096))
                .withQueue(c.queue().withUrl(url));
        Gateway gateway = Gateway.start(c);
        try {
            String token = gateway.token().token();
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<String> d = http.send(HttpRequest.newBuilder(URI.create(gateway.url()
                            + "/v1/functions/noop?handler=com.example.Echo&maxConcurrency=32&minInstances=4"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/java-archive")
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(Fixtures.functions())).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (d.statusCode() != 201) {
                throw new IllegalStateException("deploy: " + d.statusCode() + " " + d.body());
            }
            QueueStore q = gateway.queue().store();
            // Warm up: instances, the JIT, the store's pages.
            awaitAll(q, submitMany(http, gateway.url(), token, load.warmup(), CLIENTS).ids());

            // Enqueue → start at a light, paced load.
            List<Long> paced = new ArrayList<>();
            for (int i = 0; i < load.paced(); i++) {
                paced.add(submit(http, gateway.url(), token));
                Thread.sleep(20);
            }
            awaitAll(q, paced);
            double[] waits = new double[paced.size()];
            for (int i = 0; i < waits.length; i++) {
                long id = paced.get(i);
                QueueItem item = q.get(id);
                Attempt first = q.attempts(id).get(0);
                waits[i] = first.startedAt().toEpochMilli() - item.createdAt().toEpochMilli();
            }

            // Throughput.
            long t0 = System.nanoTime();
            Submitted s = submitMany(http, gateway.url(), token, load.calls(), CLIENTS);
            double accepted = load.calls() / ((s.doneNanos() - t0) / 1e9);
            Instant last = awaitAll(q, s.ids());
            Instant first = Instant.ofEpochMilli(s.firstSubmitMillis());
            double endToEnd = load.calls() / (Duration.between(first, last).toMillis() / 1e3);
            double[] endToEndMs = new double[s.ids().size()];
            for (int i = 0; i < endToEndMs.length; i++) {
                QueueItem item = q.get(s.ids().get(i));
                endToEndMs[i] = item.finishedAt().toEpochMilli() - item.createdAt().toEpochMilli();
            }
            Result r = new Result(gateway.queue().describe().startsWith("SQLite") ? "SQLite (embedded, synchronous=FULL)"
                    : "PostgreSQL 15 (local, fsync on)", waits, accepted, endToEnd, endToEndMs);
            System.out.printf(Locale.ROOT, "[bench] %s: enqueue → start p50 %d ms, p99 %d ms; %.0f accepted/s, %.0f calls/s%n",
                    r.store(), r.p50(), r.p99(), r.acceptedPerSecond(), r.endToEndPerSecond());
            return r;
        } finally {
            gateway.shutdown(Duration.ofSeconds(5));
            FileTrees.deleteQuietly(data);
        }
    }

    record Submitted(List<Long> ids, long firstSubmitMillis, long doneNanos) {
    }

    static Submitted submitMany(HttpClient http, String base, String token, int n, int clients) throws Exception {
        ConcurrentLinkedQueue<Long> ids = new ConcurrentLinkedQueue<>();
        AtomicInteger next = new AtomicInteger();
        long firstMillis = System.currentTimeMillis();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        for (int k = 0; k < clients; k++) {
            pool.execute(() -> {
                try {
                    while (next.getAndIncrement() < n) {
                        ids.add(submit(http, base, token));
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }
        pool.shutdown();
        if (!pool.awaitTermination(10, TimeUnit.MINUTES)) {
            throw new IllegalStateException("submitting took over 10 minutes");
        }
        if (ids.size() != n) {
            throw new IllegalStateException("only " + ids.size() + " of " + n + " submits were accepted");
        }
        return new Submitted(new ArrayList<>(ids), firstMillis, System.nanoTime());
    }

    private static final Pattern CALL_ID = Pattern.compile("\"callId\":\"([0-9a-f]{16})\"");

    static long submit(HttpClient http, String base, String token) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/async-function/noop"))
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher m = CALL_ID.matcher(r.body());
        if (r.statusCode() != 202 || !m.find()) {
            throw new IllegalStateException("submit: " + r.statusCode() + " " + r.body());
        }
        return CallRequest.parse(m.group(1));
    }

    /** Waits until every call has ended; all must succeed. Returns the last one's end. */
    static Instant awaitAll(QueueStore q, List<Long> ids) throws Exception {
        Instant last = Instant.EPOCH;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        for (long id : ids) {
            QueueItem i;
            while (!(i = q.get(id)).state().ended()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("call " + CallRequest.format(id) + " did not end: " + i.state());
                }
                Thread.sleep(5);
            }
            if (i.state() != QueueItem.State.SUCCEEDED) {
                throw new IllegalStateException("call " + CallRequest.format(id) + " ended " + i.state() + ": "
                        + i.errorMessage());
            }
            if (i.finishedAt().isAfter(last)) {
                last = i.finishedAt();
            }
        }
        return last;
    }
}
