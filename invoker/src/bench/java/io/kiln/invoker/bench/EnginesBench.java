package io.kiln.invoker.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.agent.testing.Fixtures;
import io.kiln.invoker.Invoker;
import io.kiln.invoker.InvokerConfig;
import io.kiln.invoker.call.CallRequest;
import io.kiln.invoker.call.CallResult;
import io.kiln.invoker.call.CallTimings;
import io.kiln.invoker.store.FunctionConfig;
import io.kiln.microvm.files.FileTrees;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The engines side by side through the real invoker (bench/lab-engines.sh runs it in the nested
 * lab, where {@code kvm} and {@code qemu-kvm} share one real KVM). For each engine in turn, on
 * a fresh data directory, with the fixtures' {@code com.example.Echo} at 256 MiB:
 * <ol>
 *   <li>deploy {@code cold} (keep-alive 0): the base snapshot's boot to READY, the base
 *       snapshot, the function snapshot, from the deploy's progress lines as they arrive;</li>
 *   <li>cold calls one at a time, each on a fresh clone: restore → first RESULT, split by
 *       {@link CallTimings#start()} into the engine's share, the RESTORED round trip and the
 *       agent's own RESTORED work, then INVOKE → RESULT;</li>
 *   <li>private memory with no instance, then with {@code --idle} idle instances of a second
 *       function {@code warm} (its minimum): the VMM processes' and the invoker JVM's
 *       Private_Clean + Private_Dirty, guest RAM (the snapshot's memory file) apart;</li>
 *   <li>sequential warm calls on those instances; then throughput: {@code --callers} concurrent
 *       callers (1, 2, 8, 32) each for {@code --seconds}, on the same instances (calls beyond
 *       them wait in the function's queue);</li>
 *   <li>{@code warm} is deleted and the memory with no instance measured again, for the JVM's
 *       own drift.</li>
 * </ol>
 * Raw results go to {@code OUT/engine-NAME.json}, rewritten after every step, so a run cut
 * short still leaves what it measured; {@code --table OUT} renders them ({@link EnginesTable}).
 * {@code --make-jar FILE} writes the function jar (on the host: javac takes over a minute under
 * the lab's TCG) and {@code --jar FILE} deploys it. {@code --json FILE} also writes the run as one
 * {@code ScenarioResult} ({@link EnginesScenario}: {@code --scenario path --where host} on this
 * machine, {@code path-lab}/{@code lab} in the lab); {@code --json FILE --scenario-json DIR} does
 * only that, from an earlier run's raw results (the lab's, read on the host).
 */
public final class EnginesBench {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final int MEMORY_MIB = 256;
    /** Room for the idle instances and a cold call's clone beside them. */
    private static final int BUDGET_MIB = 4096;
    private static final byte[] INPUT = "side by side".getBytes();

    public static void main(String[] args) throws Exception {
        List<String> engines = List.of("qemu-kvm", "process", "kvm");
        Plan plan = new Plan(5, 200, 4, List.of(1, 2, 8, 32), 5);
        Path out = null;
        Path jar = null;
        Path json = null;
        String scenario = "path-lab";
        String where = "lab";
        boolean quick = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--engines" -> engines = Arrays.asList(args[++i].split(","));
                case "--cold" -> plan = plan.withCold(Integer.parseInt(args[++i]));
                case "--warm" -> plan = plan.withWarm(Integer.parseInt(args[++i]));
                case "--idle" -> plan = plan.withIdle(Integer.parseInt(args[++i]));
                case "--callers" -> plan = plan.withCallers(Arrays.stream(args[++i].split(",")).map(Integer::valueOf)
                        .toList());
                case "--seconds" -> plan = plan.withSeconds(Double.parseDouble(args[++i]));
                case "--out" -> out = Path.of(args[++i]);
                case "--jar" -> jar = Path.of(args[++i]);
                case "--json" -> json = Path.of(args[++i]);
                case "--scenario" -> scenario = args[++i];
                case "--where" -> where = args[++i];
                case "--quick" -> quick = true;
                case "--make-jar" -> { // on the host: javac takes over a minute under the lab's TCG
                    Files.write(Path.of(args[++i]), Fixtures.functions());
                    return;
                }
                case "--table" -> {
                    System.out.print(EnginesTable.render(Path.of(args[++i])));
                    return;
                }
                case "--scenario-json" -> { // DIR: the raw results of a run (the lab's) as one ScenarioResult
                    out = Path.of(args[++i]);
                    if (json == null) {
                        throw new IllegalArgumentException("--json FILE must come before --scenario-json DIR");
                    }
                    writeScenario(out, scenario, where, quick, json);
                    return;
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (out == null) {
            throw new IllegalArgumentException("--out DIR is required (raw results; --table DIR renders them)");
        }
        Files.createDirectories(out);
        byte[] function = jar != null ? Files.readAllBytes(jar) : Fixtures.functions();
        int failed = 0;
        for (String engine : engines) {
            if (!new EnginesBench(engine, out.resolve("engine-" + engine + ".json"), function, plan).run()) {
                failed++;
            }
        }
        say(failed + " of " + engines.size() + " engines failed; the table: --table " + out);
        if (json != null) {
            writeScenario(out, scenario, where, quick, json);
        }
        System.exit(failed == 0 ? 0 : 1);
    }

    private static void writeScenario(Path dir, String scenario, String where, boolean quick, Path json)
            throws IOException {
        EnginesScenario.from(dir, scenario, where, quick).write(json);
        say("scenario " + scenario + " written to " + json);
    }

    /**
     * How much to measure per engine: cold calls, warm calls, idle instances kept (they serve the
     * warm calls and the throughput runs), concurrent callers of the throughput runs and how long
     * each runs.
     */
    record Plan(int cold, int warm, int idle, List<Integer> callers, double seconds) {
        Plan withCold(int n) {
            return new Plan(n, warm, idle, callers, seconds);
        }

        Plan withWarm(int n) {
            return new Plan(cold, n, idle, callers, seconds);
        }

        Plan withIdle(int n) {
            return new Plan(cold, warm, n, callers, seconds);
        }

        Plan withCallers(List<Integer> c) {
            return new Plan(cold, warm, idle, List.copyOf(c), seconds);
        }

        Plan withSeconds(double s) {
            return new Plan(cold, warm, idle, callers, s);
        }

        int maxCallers() {
            return callers.stream().mapToInt(Integer::intValue).max().orElse(1);
        }
    }

    private final String engine;
    private final Path file;
    private final ObjectNode result = JSON.createObjectNode();
    /** The fixtures' functions jar, with {@code com.example.Echo}. */
    private final byte[] jar;
    private final Plan plan;

    private EnginesBench(String engine, Path file, byte[] jar, Plan plan) {
        this.engine = engine;
        this.file = file;
        this.jar = jar;
        this.plan = plan;
    }

    private boolean run() throws IOException, InterruptedException {
        int idle = plan.idle();
        say("---- engine " + engine);
        result.put("engine", engine).put("started", Instant.now().toString()).put("loadavgStart", loadavg())
                .put("host", EnginesTable.machine());
        ObjectNode p = result.putObject("parameters").put("cold", plan.cold()).put("warm", plan.warm())
                .put("idle", idle).put("seconds", plan.seconds()).put("memoryMib", MEMORY_MIB)
                .put("budgetMib", BUDGET_MIB).put("maxConcurrency", plan.maxCallers());
        plan.callers().forEach(p.putArray("callers")::add);
        save();
        Path data = Files.createTempDirectory("kiln-engines-bench-");
        String stage = "starting the invoker";
        boolean ok = true;
        // Boot: 4 min (the lab boots in one or two); calls wait for their start, not for capacity.
        // Restores: a minute (RESTORED took up to 3.5 s in the lab, on a loaded machine; the default is 10 s).
        // The Java engine three ways: its VMs in VMM host processes, jailed where jails work
        // (kvm), not jailed (kvm-group), or in this JVM as before (kvm-in-gateway).
        String engineSetting = engine.startsWith("kvm-") ? "kvm" : engine;
        System.setProperty("kiln.kvm.vmm", engine.equals("kvm-in-gateway") ? "in-gateway" : "group");
        InvokerConfig config = InvokerConfig.defaults(data).withEngine(engineSetting).withMemoryBudgetMib(BUDGET_MIB)
                .withJail(engine.equals("kvm-group") || engine.equals("kvm-in-gateway") ? "off" : "auto")
                .withQueue(100, Duration.ofMinutes(5)).withStartTimeouts(Duration.ofMinutes(4), Duration.ofMinutes(1));
        try (Invoker invoker = Invoker.start(config, new SimpleMeterRegistry())) {
            result.put("engineReason", invoker.engine().reason() + "; jails " + (invoker.jail().enabled() ? "on" : "off")
                    + " (" + invoker.jail().why() + "); " + invoker.engine().engine());
            FunctionConfig echo = FunctionConfig.of("com.example.Echo").withMemoryMib(MEMORY_MIB)
                    .withTimeout(Duration.ofMinutes(2));
            stage = "deploying cold (base and function snapshots)";
            result.set("deploy", deploy(invoker, "cold", echo.withKeepAlive(Duration.ZERO)));
            stage = "cold calls";
            coldCalls(invoker, plan.cold());
            stage = "memory with no instance";
            waitForNoInstances(invoker);
            ObjectNode memory = result.putObject("memory").put("instances", idle).put("preTouchedHeap",
                    ManagementFactory.getRuntimeMXBean().getInputArguments().contains("-XX:+AlwaysPreTouch"));
            memory.set("none", memory(data));
            save();
            stage = "deploying warm (a second function snapshot) with " + idle + " idle instances";
            // min = max: every warm call and throughput run is served by these instances, never a
            // new one; maxConcurrency lets every caller in, the rest wait in the function's queue.
            result.set("deployWarm", deploy(invoker, "warm", echo.withMinInstances(idle).withMaxInstances(idle)
                    .withMaxConcurrency(plan.maxCallers()).withKeepAlive(Duration.ofMinutes(30))));
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (invoker.state("warm").pinnedIdle() < idle) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("only " + invoker.state("warm").pinnedIdle() + " of " + idle
                            + " idle instances after 5 minutes");
                }
                Thread.sleep(200); // the minimum starts in the background
            }
            Thread.sleep(2000); // let the clones settle after RESTORED
            stage = "memory with " + idle + " idle instances";
            memory.set("idle", memory(data));
            save();
            stage = "warm calls";
            warmCalls(invoker, plan.warm());
            stage = "throughput";
            throughput(invoker, idle);
            // A second baseline, with the instances gone again: how far the JVM's own private
            // memory moves by itself, the error bar of its growth per instance.
            stage = "memory after deleting warm";
            invoker.delete("warm");
            waitForNoInstances(invoker);
            memory.set("after", memory(data));
            save();
            stage = "shutting down";
        } catch (Exception | Error e) {
            ok = false;
            result.put("error", stage + ": " + e);
            say("FAILED at " + stage + ": " + e);
            e.printStackTrace();
        } finally {
            result.put("ended", Instant.now().toString()).put("loadavgEnd", loadavg());
            save();
            deleteTree(data);
        }
        return ok;
    }

    /** Deploys, timing each progress line as it arrives. */
    private ObjectNode deploy(Invoker invoker, String name, FunctionConfig config) throws IOException {
        ObjectNode d = JSON.createObjectNode();
        ArrayNode lines = d.putArray("progress");
        long start = System.nanoTime();
        invoker.deploy(name, new ByteArrayInputStream(jar), config, line -> {
            lines.addObject().put("atMs", (System.nanoTime() - start) / 1_000_000).put("line", line);
            say("  deploy " + name + " +" + (System.nanoTime() - start) / 1_000_000 + " ms: " + line);
        });
        d.put("wallMs", (System.nanoTime() - start) / 1_000_000);
        return d;
    }

    private void coldCalls(Invoker invoker, int n) throws Exception {
        ArrayNode calls = result.putArray("cold");
        for (int i = 0; i < n; i++) {
            waitForNoInstances(invoker); // the last clone's teardown must not overlap this restore
            long s = System.nanoTime();
            CallResult r = invoker.invoke("cold", CallRequest.of(INPUT)).get(10, TimeUnit.MINUTES);
            long latencyUs = (System.nanoTime() - s) / 1000;
            check(r);
            CallTimings t = r.timings();
            if (!t.cold()) {
                throw new IllegalStateException("call " + i + " on a zero keep-alive function was warm");
            }
            calls.addObject().put("latencyUs", latencyUs).put("queuedUs", t.queuedUs()).put("startUs", t.startUs())
                    .put("engineUs", t.start().engineUs()).put("agentUs", t.start().agentUs())
                    .put("agentWorkUs", t.start().agentWorkUs()).put("invokeUs", t.invokeUs());
            say("  cold call " + i + ": " + latencyUs / 1000 + " ms (" + t + ")");
            save();
        }
    }

    private void warmCalls(Invoker invoker, int n) throws Exception {
        for (int i = 0; i < 20; i++) {
            check(invoker.invoke("warm", CallRequest.of(INPUT)).get(2, TimeUnit.MINUTES)); // warm-up, both sides
        }
        ObjectNode w = result.putObject("warm");
        ArrayNode latency = w.putArray("latencyUs");
        ArrayNode invoke = w.putArray("invokeUs");
        for (int i = 0; i < n; i++) {
            long s = System.nanoTime();
            CallResult r = invoker.invoke("warm", CallRequest.of(INPUT)).get(2, TimeUnit.MINUTES);
            latency.add((System.nanoTime() - s) / 1000);
            check(r);
            if (r.timings().cold()) {
                throw new IllegalStateException("warm call " + i + " was cold");
            }
            invoke.add(r.timings().invokeUs());
        }
        save();
    }

    /** Warm calls from 1, 2, 8... concurrent callers, each for {@code plan.seconds()}, after a short warm-up. */
    private void throughput(Invoker invoker, int instances) throws Exception {
        ArrayNode runs = result.putArray("throughput");
        for (int callers : plan.callers()) {
            CallersRun.run(invoker, "warm", INPUT, callers, Math.min(1, plan.seconds())); // warm-up: this many threads
            CallersRun r = CallersRun.run(invoker, "warm", INPUT, callers, plan.seconds());
            ObjectNode n = runs.addObject().put("callers", callers).put("seconds", r.seconds())
                    .put("instances", instances).put("coldStarts", r.coldStarts());
            ArrayNode l = n.putArray("latencyUs");
            Arrays.stream(r.latenciesUs()).forEach(l::add);
            say(String.format("  %d callers: %d calls in %.1f s, %.1f calls/s", callers, r.latenciesUs().length,
                    r.seconds(), r.callsPerSecond()));
            save();
        }
    }

    private static void check(CallResult r) {
        if (!Arrays.equals(INPUT, r.body())) {
            throw new IllegalStateException("wrong answer: " + new String(r.body()));
        }
    }

    private static void waitForNoInstances(Invoker invoker) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (invoker.poolState().liveInstances() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }

    /**
     * The invoker JVM's private memory (guest RAM mapped into it apart: the Java engine's), its
     * heap in use after a GC, and every VMM or agent child's, guest RAM apart. Guest RAM is any
     * mapping of a snapshot's {@code memory} file under this run's data directory; in a child, any
     * file named {@code memory}, wherever its jail shows it (the Java engine's jailed VMM hosts
     * showed no mapping under the data directory in the lab run of 2026-11-30, so their guest
     * pages were counted as the rest).
     */
    private ObjectNode memory(Path data) throws IOException, InterruptedException {
        Predicate<String> guestRam = path -> path.startsWith(data.toString()) && path.endsWith("/memory");
        Predicate<String> childGuestRam = path -> path.endsWith("/memory") || path.endsWith("/memory (deleted)");
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(300);
        }
        ObjectNode m = JSON.createObjectNode();
        m.put("heapUsedKiB", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1024);
        m.set("jvm", split(Smaps.read(-1, guestRam)));
        ArrayNode children = m.putArray("children");
        String marker = engine.equals("process") ? "kiln-agent.jar"
                : engine.startsWith("kvm") ? "io.kiln.microvm.group.VmHostMain" : "qemu-system";
        for (long pid : Smaps.children(marker)) {
            // The parent ties a jailed VMM to its jailer: one instance's processes.
            long ppid = ProcessHandle.of(pid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElse(-1L);
            children.addObject().put("pid", pid).put("ppid", ppid).setAll(split(Smaps.read(pid, childGuestRam)));
        }
        say("  memory: " + m);
        return m;
    }

    private static ObjectNode split(Smaps.Split s) {
        ObjectNode n = JSON.createObjectNode();
        n.put("guestMappings", s.selectedMappings());
        n.put("guestPrivateCleanKiB", s.selected().cleanKiB()).put("guestPrivateDirtyKiB", s.selected().dirtyKiB())
                .put("guestRssKiB", s.selected().rssKiB()).put("guestPssKiB", s.selected().pssKiB());
        n.put("restPrivateCleanKiB", s.rest().cleanKiB()).put("restPrivateDirtyKiB", s.rest().dirtyKiB())
                .put("restRssKiB", s.rest().rssKiB()).put("restPssKiB", s.rest().pssKiB());
        return n;
    }

    private void save() throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), result);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    static String loadavg() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "?";
        }
    }

    private static void say(String s) {
        System.out.println("[engines] " + s);
        System.out.flush();
    }

    /** Twice if need be: agent processes delete their own work directories as they exit. */
    private static void deleteTree(Path root) throws InterruptedException {
        if (!FileTrees.deleteQuietly(root)) {
            Thread.sleep(2000);
            FileTrees.deleteQuietly(root);
        }
    }
}
