package io.kiln.invoker.bench;

import io.kiln.agent.testing.Fixtures;
import io.kiln.bench.report.ScenarioResult;
import io.kiln.invoker.Invoker;
import io.kiln.invoker.InvokerConfig;
import io.kiln.invoker.call.CallDispatcher;
import io.kiln.invoker.store.FunctionConfig;
import io.kiln.microvm.files.FileTrees;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * How many idle warm instances of one function fit in the invoker's memory budget, and what
 * each really costs the host. The fixtures' {@code com.example.Echo} is deployed with a minimum
 * of more instances than the budget can hold; the invoker starts them in the background (each
 * restored from the function snapshot: the function loaded and initialised) until its budget has
 * no room for another, and leaves the rest unstarted. Once the count has been still for a while,
 * each instance's VMM process (QEMU; the agent JVM on the process engine) is measured from its
 * {@code /proc/PID/smaps_rollup}: Private_Clean + Private_Dirty, Rss and Pss.
 *
 * <pre>
 *   DensityBench --json FILE [--engines qemu-tcg,process] [--budget MIB] [--memory MIB] [--quick]
 * </pre>
 *
 * The invoker accounts each instance at its function's memory (the guest's RAM size); the
 * report compares that reservation with the measured private memory.
 */
public final class DensityBench {

    /** The count must stay put this long before it is taken as all that fits. */
    private static final long STILL_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long START_LIMIT_NANOS = TimeUnit.MINUTES.toNanos(10);

    public static void main(String[] args) throws Exception {
        List<String> engines = List.of("qemu-tcg");
        int budgetMib = 2048;
        int memoryMib = 256;
        boolean quick = false;
        Path json = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--engines" -> engines = List.of(args[++i].split(","));
                case "--budget" -> budgetMib = Integer.parseInt(args[++i]);
                case "--memory" -> memoryMib = Integer.parseInt(args[++i]);
                case "--quick" -> quick = true;
                case "--json" -> json = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (json == null) {
            throw new IllegalArgumentException("--json FILE is required");
        }
        // Two more than fit by the invoker's own accounting: the pool must refuse them.
        int asked = budgetMib / memoryMib + 2;
        ScenarioResult.Builder b = ScenarioResult.builder("density", "Idle warm instances of one function in a "
                        + budgetMib + " MiB memory budget, host (" + String.join(", ", engines) + ")", "host")
                .quick(quick).parameter("budgetMib", budgetMib).parameter("memoryMib", memoryMib)
                .parameter("minInstancesAsked", asked).environment("machine", EnginesTable.machine());
        StringBuilder table = new StringBuilder();
        int failed = 0;
        for (String engine : engines) {
            b.engine(engine);
            try {
                table.append(measure(b, engine, budgetMib, memoryMib, asked)).append('\n');
            } catch (Exception | Error e) {
                failed++;
                b.note(engine + " FAILED: " + e);
                say(engine + " FAILED: " + e);
                e.printStackTrace();
            }
        }
        ScenarioResult r = b.table(table.toString()).build();
        r.write(json);
        System.out.print(r.table());
        say(failed + " of " + engines.size() + " engines failed; written to " + json);
        System.exit(failed == 0 ? 0 : 1);
    }

    /** One engine's count and memory rows into {@code b}; returns its Markdown table. */
    private static String measure(ScenarioResult.Builder b, String engine, int budgetMib, int memoryMib, int asked)
            throws Exception {
        Path data = Files.createTempDirectory("kiln-density-bench-");
        try (Invoker invoker = Invoker.start(InvokerConfig.defaults(data).withEngine(engine)
                .withMemoryBudgetMib(budgetMib).withStartTimeouts(Duration.ofMinutes(4), Duration.ofMinutes(1)),
                new SimpleMeterRegistry())) {
            b.environment("engine " + engine, invoker.engine().reason() + "; " + invoker.engine().engine());
            say("engine " + invoker.engine().engine() + "; budget " + budgetMib + " MiB, " + memoryMib
                    + " MiB per instance, asking for " + asked);
            invoker.deploy("dense", new ByteArrayInputStream(Fixtures.functions()),
                    FunctionConfig.of("com.example.Echo").withMemoryMib(memoryMib).withMinInstances(asked)
                            .withMaxInstances(asked).withKeepAlive(Duration.ofHours(1)),
                    line -> say("  deploy: " + line));
            int fitted = waitUntilStill(invoker);
            CallDispatcher.PoolState pool = invoker.poolState();
            Thread.sleep(2000); // let the last clone settle after RESTORED
            List<Smaps.Private> measured = new ArrayList<>();
            for (long pid : vmmProcesses(engine)) {
                measured.add(Smaps.rollup(pid));
            }
            if (measured.size() != fitted) {
                throw new IllegalStateException(fitted + " instances but " + measured.size() + " VMM processes: "
                        + "cannot tell each instance's memory");
            }
            double[] privateMib = new double[fitted];
            for (int i = 0; i < fitted; i++) {
                Smaps.Private p = measured.get(i);
                privateMib[i] = mib(p.totalKiB());
                b.memory(new ScenarioResult.Memory(engine, i + 1, privateMib[i], mib(p.rssKiB()), mib(p.pssKiB())));
            }
            b.sampled("instances-in-budget", "idle warm instances the budget held", engine, "count",
                    new double[]{fitted});
            if (fitted > 0) {
                b.sampled("instance-private", "private memory per idle instance (smaps_rollup)", engine, "MiB",
                        privateMib);
            }
            double[] pssMib = measured.stream().mapToDouble(p -> mib(p.pssKiB())).toArray();
            notes(b, engine, budgetMib, memoryMib, asked, fitted, pool, privateMib, pssMib,
                    invoker.engine().engine().vmOverheadMib());
            return table(engine, budgetMib, memoryMib, fitted, measured);
        } finally {
            if (!FileTrees.deleteQuietly(data)) {
                Thread.sleep(2000); // agent processes delete their own work directories as they exit
                FileTrees.deleteQuietly(data);
            }
        }
    }

    /** Live instances, once none has been added or lost for {@link #STILL_NANOS} and none is still starting. */
    private static int waitUntilStill(Invoker invoker) throws InterruptedException {
        long begin = System.nanoTime();
        int last = -1;
        long since = begin;
        while (true) {
            CallDispatcher.FunctionState s = invoker.state("dense");
            int idle = s.pinnedIdle();
            if (idle != last || s.live() != idle) { // live > idle: some still starting
                last = s.live() == idle ? idle : -1;
                since = System.nanoTime();
            } else if (System.nanoTime() - since > STILL_NANOS) {
                return idle;
            }
            if (System.nanoTime() - begin > START_LIMIT_NANOS) {
                throw new IllegalStateException("instances still starting after 10 minutes: " + s);
            }
            Thread.sleep(200);
        }
    }

    /** One process per instance: the agent JVMs of the process engine, else the QEMUs (not their jailers). */
    private static List<Long> vmmProcesses(String engine) {
        return engine.equals("process") ? Smaps.children("kiln-agent.jar") : Smaps.running("qemu-system-x86_64");
    }

    private static void notes(ScenarioResult.Builder b, String engine, int budgetMib, int memoryMib, int asked,
                              int fitted, CallDispatcher.PoolState pool, double[] privateMib, double[] pssMib,
                              int vmOverheadMib) {
        boolean vm = !engine.equals("process");
        b.note(engine + ": the invoker accounts each instance at its function's memory, " + memoryMib + " MiB ("
                + (vm ? "the guest's RAM" : "its -Xmx is three quarters of it") + "): " + fitted + " × " + memoryMib + " = "
                + fitted * memoryMib + " MiB of the " + budgetMib + " MiB budget reserved (pool: " + pool.reservedMib()
                + " MiB reserved, " + pool.liveInstances() + " live); the minimum asked for " + asked
                + ", the rest had no room.");
        if (fitted > 0) {
            double mean = java.util.Arrays.stream(privateMib).average().orElseThrow();
            b.note(String.format("%s: measured from the host, %.1f MiB private per instance on average (smaps_rollup "
                            + "of each %s: Private_Clean + Private_Dirty%s), %.0f %% of the %d MiB reserved for it.",
                    engine, mean, vm ? "QEMU" : "agent JVM", vm ? ", the guest RAM it has touched included" : "",
                    100 * mean / memoryMib, memoryMib));
            b.note(String.format("%s: Pss (a page shared by n processes counts 1/n in each: %s) is %.1f MiB per "
                            + "instance on average; Rss counts shared pages in full, in every process.", engine,
                    vm ? "the clones share the snapshot's memory file they all read, and QEMU's code"
                            : "the JVMs share libjvm.so, the CDS archive and the jars",
                    java.util.Arrays.stream(pssMib).average().orElseThrow()));
        }
        if (vm) {
            b.note(engine + ": the budget counts guest memory only; the engine declares " + vmOverheadMib
                    + " MiB more per VM (its VMM's own memory), which a jailed VM's cgroup limit allows for.");
        }
        b.note(engine + ": " + (vm ? "the instances are restored from the function snapshot (function loaded and "
                + "initialised)" : "the instances are agent JVMs started with the function loaded (no snapshot)")
                + " and have not served a call: a call touches more memory.");
    }

    private static String table(String engine, int budgetMib, int memoryMib, int fitted, List<Smaps.Private> m) {
        StringBuilder t = new StringBuilder(String.format("%s, budget %d MiB, %d MiB per instance: %d instances%n%n",
                engine, budgetMib, memoryMib, fitted));
        t.append("| instance | private MiB | Rss MiB | Pss MiB |\n|---:|---:|---:|---:|\n");
        for (int i = 0; i < m.size(); i++) {
            Smaps.Private p = m.get(i);
            t.append(String.format("| %d | %.1f | %.1f | %.1f |%n", i + 1, mib(p.totalKiB()), mib(p.rssKiB()),
                    mib(p.pssKiB())));
        }
        return t.toString();
    }

    private static double mib(long kib) {
        return Math.round(kib / 1024.0 * 100) / 100.0;
    }

    private static void say(String s) {
        System.out.println("[density] " + s);
        System.out.flush();
    }
}
