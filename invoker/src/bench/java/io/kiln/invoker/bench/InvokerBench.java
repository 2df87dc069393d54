package io.kiln.invoker.bench;

import io.kiln.agent.testing.Fixtures;
import io.kiln.invoker.Invoker;
import io.kiln.invoker.InvokerConfig;
import io.kiln.invoker.call.CallRequest;
import io.kiln.invoker.call.CallResult;
import io.kiln.invoker.store.FunctionConfig;
import io.kiln.microvm.files.FileTrees;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Cold versus warm calls through the whole invoker (admission, pool, instance, agent), 16-byte
 * echo. Cold: a function with zero keep-alive, so every call restores a clone and the clone is
 * destroyed after it. Warm: eight idle instances kept by a minimum, callers take turns.
 * Each scenario runs at 1, 2 and 8 concurrent callers; rows give latency percentiles
 * (nearest rank) and calls per second.
 */
public final class InvokerBench {

    private record Row(String scenario, int callers, int n, double p50, double p99, double max, double perSecond,
                       double startP50) {
    }

    public static void main(String[] args) throws Exception {
        String engine = "auto";
        int seconds = 10;
        int coldPerCaller = 6;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--engine" -> engine = args[++i];
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--cold" -> coldPerCaller = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Path data = Files.createTempDirectory("kiln-invoker-bench-");
        List<Row> rows = new ArrayList<>();
        try (Invoker invoker = Invoker.start(InvokerConfig.defaults(data).withEngine(engine)
                .withMemoryBudgetMib(8192).withQueue(100, Duration.ofMinutes(5)), new SimpleMeterRegistry())) {
            System.out.println("engine: " + invoker.engine().engine() + " — " + invoker.engine().reason());
            long t0 = System.nanoTime();
            FunctionConfig echo = FunctionConfig.of("com.example.Echo").withMemoryMib(256).withMaxConcurrency(8)
                    .withMaxInstances(8);
            invoker.deploy("cold", new ByteArrayInputStream(Fixtures.functions()), echo.withKeepAlive(Duration.ZERO),
                    line -> System.out.println("  deploy cold: " + line));
            System.out.printf("first deploy (base snapshot included): %.1f s%n", (System.nanoTime() - t0) / 1e9);
            invoker.deploy("warm", new ByteArrayInputStream(Fixtures.functions()), echo.withMinInstances(8),
                    line -> System.out.println("  deploy warm: " + line));
            while (invoker.state("warm").pinnedIdle() < 8) {
                Thread.sleep(100); // the minimum is started in the background
            }
            for (int callers : new int[]{1, 2, 8}) {
                rows.add(run(invoker, "cold", callers, coldPerCaller, 0));
            }
            for (int callers : new int[]{1, 2, 8}) {
                run(invoker, "warm", callers, 20, 0); // warm-up: JIT on both sides
                rows.add(run(invoker, "warm", callers, Integer.MAX_VALUE, seconds));
            }
        }
        print(rows);
        deleteTree(data); // snapshots: hundreds of MiB
    }

    /** Twice if need be: agent processes delete their own work directories as they exit. */
    private static void deleteTree(Path root) throws InterruptedException {
        if (!FileTrees.deleteQuietly(root)) {
            Thread.sleep(2000);
            FileTrees.deleteQuietly(root);
        }
    }

    /** {@code callers} threads, each making up to {@code calls} calls or calling for {@code seconds}. */
    private static Row run(Invoker invoker, String function, int callers, int calls, int seconds) throws Exception {
        byte[] input = new byte[16];
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        List<Long> starts = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(callers);
        long deadline = seconds == 0 ? Long.MAX_VALUE : System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
        long begin = System.nanoTime();
        for (int c = 0; c < callers; c++) {
            Thread t = new Thread(() -> {
                try {
                    for (int i = 0; i < calls && System.nanoTime() < deadline; i++) {
                        long s = System.nanoTime();
                        CallResult r = invoker.invoke(function, CallRequest.of(input)).get(5, TimeUnit.MINUTES);
                        latencies.add(System.nanoTime() - s);
                        if (r.timings().cold()) {
                            starts.add(r.timings().startUs() * 1000);
                        }
                        if (!Arrays.equals(input, r.body())) {
                            throw new IllegalStateException("wrong answer");
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                } finally {
                    done.countDown();
                }
            });
            t.start();
        }
        done.await();
        double elapsed = (System.nanoTime() - begin) / 1e9;
        if (!errors.isEmpty()) {
            throw new IllegalStateException(errors.size() + " calls failed, first: " + errors.get(0), errors.get(0));
        }
        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        List<Long> startSorted = new ArrayList<>(starts);
        Collections.sort(startSorted);
        Row row = new Row(function, callers, sorted.size(), ms(sorted, 50), ms(sorted, 99), ms(sorted, 100),
                sorted.size() / elapsed, startSorted.isEmpty() ? Double.NaN : ms(startSorted, 50));
        System.out.println(row);
        return row;
    }

    private static double ms(List<Long> sorted, double p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1))) / 1e6;
    }

    private static void print(List<Row> rows) {
        System.out.println();
        System.out.println("| calls | callers | n | p50 ms | p99 ms | max ms | calls/s | start p50 ms |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        for (Row r : rows) {
            System.out.printf("| %s | %d | %d | %.1f | %.1f | %.1f | %.1f | %s |%n", r.scenario, r.callers, r.n, r.p50,
                    r.p99, r.max, r.perSecond, Double.isNaN(r.startP50) ? "-" : String.format("%.1f", r.startP50));
        }
    }
}
