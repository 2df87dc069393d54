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
 *   <li>sequential warm calls on those instances; then {@code warm} is deleted and the memory
 *       with no instance measured again, for the JVM's own drift.</li>
 * </ol>
 * Raw results go to {@code OUT/engine-NAME.json}, rewritten after every step, so a run cut
 * short still leaves what it measured; {@code --table OUT} renders them ({@link EnginesTable}).
 * {@code --make-jar FILE} writes the function jar (on the host: javac takes over a minute under
 * the lab's TCG) and {@code --jar FILE} deploys it.
 */
public final class EnginesBench {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final int MEMORY_MIB = 256;
    private static final byte[] INPUT = "side by side".getBytes();

    public static void main(String[] args) throws Exception {
        List<String> engines = List.of("qemu-kvm", "process", "kvm");
        int cold = 5;
        int warm = 200;
        int idle = 4;
        Path out = null;
        Path jar = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--engines" -> engines = Arrays.asList(args[++i].split(","));
                case "--cold" -> cold = Integer.parseInt(args[++i]);
                case "--warm" -> warm = Integer.parseInt(args[++i]);
                case "--idle" -> idle = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--jar" -> jar = Path.of(args[++i]);
                case "--make-jar" -> { // on the host: javac takes over a minute under the lab's TCG
                    Files.write(Path.of(args[++i]), Fixtures.functions());
                    return;
                }
                case "--table" -> {
                    System.out.print(EnginesTable.render(Path.of(args[++i])));
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
            if (!new EnginesBench(engine, out.resolve("engine-" + engine + ".json"), function).run(cold, warm, idle)) {
                failed++;
            }
        }
        say(failed + " of " + engines.size() + " engines failed; the table: --table " + out);
        System.exit(failed == 0 ? 0 : 1);
    }

    private final String engine;
    private final Path file;
    private final ObjectNode result = JSON.createObjectNode();
    /** The fixtures' functions jar, with {@code com.example.Echo}. */
    private final byte[] jar;

    private EnginesBench(String engine, Path file, byte[] jar) {
        this.engine = engine;
        this.file = file;
        this.jar = jar;
    }

    private boolean run(int cold, int warm, int idle) throws IOException, InterruptedException {
        say("---- engine " + engine);
        result.put("engine", engine).put("started", Instant.now().toString()).put("loadavgStart", loadavg())
                .put("host", EnginesTable.machine());
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
        InvokerConfig config = InvokerConfig.defaults(data).withEngine(engineSetting).withMemoryBudgetMib(4096)
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
            coldCalls(invoker, cold);
            stage = "memory with no instance";
            waitForNoInstances(invoker);
            ObjectNode memory = result.putObject("memory").put("instances", idle).put("preTouchedHeap",
                    ManagementFactory.getRuntimeMXBean().getInputArguments().contains("-XX:+AlwaysPreTouch"));
            memory.set("none", memory(data));
            save();
            stage = "deploying warm (a second function snapshot) with " + idle + " idle instances";
            result.set("deployWarm", deploy(invoker, "warm", echo.withMinInstances(idle).withMaxInstances(idle)
                    .withKeepAlive(Duration.ofMinutes(30))));
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
            warmCalls(invoker, warm);
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
     * mapping of a snapshot's {@code memory} file under this run's data directory.
     */
    private ObjectNode memory(Path data) throws IOException, InterruptedException {
        Predicate<String> guestRam = path -> path.startsWith(data.toString()) && path.endsWith("/memory");
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
            children.addObject().put("pid", pid).setAll(split(Smaps.read(pid, guestRam)));
        }
        say("  memory: " + m);
        return m;
    }

    private static ObjectNode split(Smaps.Split s) {
        ObjectNode n = JSON.createObjectNode();
        n.put("guestMappings", s.selectedMappings());
        n.put("guestPrivateCleanKiB", s.selected().cleanKiB()).put("guestPrivateDirtyKiB", s.selected().dirtyKiB())
                .put("guestRssKiB", s.selected().rssKiB());
        n.put("restPrivateCleanKiB", s.rest().cleanKiB()).put("restPrivateDirtyKiB", s.rest().dirtyKiB())
                .put("restRssKiB", s.rest().rssKiB());
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
