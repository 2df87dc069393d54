package io.kiln.invoker;

import io.kiln.agent.testing.Fixtures;
import io.kiln.invoker.call.CallException;
import io.kiln.invoker.call.CallResult;
import io.kiln.invoker.engine.KvmEngine;
import io.kiln.invoker.engine.VmGroups;
import io.kiln.invoker.instance.StartFailure;
import io.kiln.invoker.store.FunctionConfig;
import io.kiln.invoker.store.FunctionVersion;
import io.kiln.invoker.testing.Await;
import io.kiln.microvm.boot.HostCpu;
import io.kiln.microvm.group.VmHost;
import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.jail.Jailer;
import io.kiln.microvm.snapshot.Snapshot;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.kiln.invoker.testing.Calls.call;
import static io.kiln.invoker.testing.Calls.failure;
import static io.kiln.invoker.testing.Calls.join;
import static io.kiln.invoker.testing.Calls.start;
import static io.kiln.invoker.testing.Calls.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The invoker on a VM engine, end to end: functions are real jars, instances are clones of
 * function snapshots. One invoker and one base snapshot for the class; the tests run in order
 * and build on each other's deploys only where they say so.
 *
 * <p>The engine is {@code -Dkiln.test.engine} ({@code auto} by default: QEMU TCG on a machine
 * without hardware KVM). The lab (lab/run-kvm-tests.sh) runs this same class with {@code kvm},
 * the Java engine, on real nested kvm_amd: one set of cases for every engine.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VmInvokerTest {

    /** The engine under test, as the invoker's engine setting takes it. */
    static final String ENGINE = System.getProperty("kiln.test.engine", "auto");

    /**
     * How much slower than this machine's TCG the engine under test runs a guest: the nested lab
     * (QEMU TCG emulating SVM, which then runs our guest) sets 10. Only the deadlines that a
     * test sets on purpose scale with it, so that a deliberate timeout still happens and a call
     * that should finish still does.
     */
    static final long SLOWDOWN = Long.getLong("kiln.test.slowdown", 1);

    /** How long teardown may take before a test calls it lost. */
    private static final Duration SETTLE = Duration.ofSeconds(30 * SLOWDOWN);

    /** On a failure, the logs and console lines of every function, since the test cannot know which matter. */
    @RegisterExtension
    static final TestWatcher PRINT_LOGS_ON_FAILURE = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            if (invoker == null) {
                return;
            }
            for (FunctionVersion f : invoker.list()) {
                System.out.println("---- last log lines of " + f.name());
                invoker.logs().recent(f.name(), 0, 80).forEach(System.out::println);
            }
        }
    };

    @TempDir
    static Path data;

    private static Invoker invoker;

    @BeforeAll
    static void openInvoker() throws IOException {
        invoker = open();
        assertTrue(invoker.engine().engine().isolated(), invoker.engine()::toString);
        System.out.println("VmInvokerTest engine: " + invoker.engine().engine() + " — " + invoker.engine().reason());
    }

    private static Invoker open() throws IOException {
        return Invoker.start(InvokerConfig.defaults(data).withEngine(ENGINE).withMemoryBudgetMib(3072)
                .withStartTimeouts(Duration.ofMinutes(5), Duration.ofSeconds(10 * SLOWDOWN))
                .withQueue(1, Duration.ofSeconds(60)), new SimpleMeterRegistry());
    }

    @AfterAll
    static void stop() {
        if (invoker != null) {
            invoker.close();
        }
        Await.until(SETTLE, List.of(), VmInvokerTest::vmsLeft, "VMs left after shutdown");
    }

    /**
     * What is left of VMs: QEMU processes this JVM started and that still run, and the Java
     * engine's vCPU threads.
     */
    private static List<String> vmsLeft() {
        Stream<String> qemus = ProcessHandle.current().descendants()
                .filter(p -> p.info().command().map(c -> c.contains("qemu-system")).orElse(false))
                .map(p -> "QEMU pid " + p.pid());
        Stream<String> vcpus = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith("kiln-vcpu-"))
                .map(t -> "thread " + t.getName());
        return Stream.concat(qemus, vcpus).toList();
    }

    private static FunctionVersion deploy(String name, FunctionConfig config, List<String> progress)
            throws IOException {
        return invoker.deploy(name, new ByteArrayInputStream(Fixtures.functions()), config, progress::add);
    }

    private static FunctionConfig probe() {
        return FunctionConfig.of("com.example.Probe").withMemoryMib(256);
    }

    @Test
    @Order(1)
    void deployThenAColdCallThenAWarmOne() throws IOException {
        List<String> progress = new ArrayList<>();
        FunctionVersion v = deploy("probe", probe(), progress);
        assertEquals(1, v.version());
        String all = String.join("\n", progress);
        assertTrue(all.contains("for a base snapshot"), all);
        assertTrue(all.contains("taking the function snapshot"), all);
        assertTrue(progress.get(progress.size() - 1).startsWith("version 1 of probe is ready"), all);

        CallResult cold = call(invoker, "probe", "count");
        assertEquals("calls=1", text(cold), "a clone of the snapshot, which was taken before any call");
        assertTrue(cold.timings().cold());
        CallResult warm = call(invoker, "probe", "count");
        assertEquals("calls=2", text(warm));
        assertFalse(warm.timings().cold());
        assertEquals(1, invoker.state("probe").live());
    }

    @Test
    @Order(2)
    void callsBeyondTheConcurrencyLimitAndQueueAreRefused() throws IOException {
        deploy("one", probe().withMaxConcurrency(1), new ArrayList<>());
        CompletableFuture<CallResult> running = start(invoker, "one", "sleep 3000");
        Await.until(SETTLE, 1, () -> invoker.state("one").inFlight(), "calls in flight");
        CompletableFuture<CallResult> waiting = start(invoker, "one", "count");
        CallException refused = failure(start(invoker, "one", "count"));
        assertEquals(CallException.Codes.QUEUE_FULL, refused.code());
        assertEquals(Duration.ofSeconds(1), refused.retryAfter());
        assertEquals("calls=1", text(join(running)));
        assertEquals("calls=2", text(join(waiting)));
    }

    /**
     * The Java engine's VMM host process of a deployed function, opened from the host side: it
     * runs as its group's uid under the seccomp filter, in its own namespaces, sees neither the
     * node's secrets nor another function's snapshots, and its cgroup carries the group's memory
     * limit. Only where the engine is the Java engine with jails on (the lab); QEMU's jail has
     * its own tests (QemuJailTest, GatewayJailTest).
     */
    @Test
    @Order(3)
    void theJavaEnginesVmmHostProcessIsJailedSandboxedAndLimited() throws Exception {
        Assumptions.assumeTrue(invoker.engine().engine() instanceof KvmEngine && invoker.jail().enabled(),
                "the Java engine with jails on: " + invoker.engine().engine());
        KvmEngine engine = (KvmEngine) invoker.engine().engine();
        Path secret = Files.writeString(data.resolve("token"), "a stand-in for the gateway's token\n");
        VmHost host = engine.hosts().running("probe");
        assertNotNull(host, "probe's host process runs");
        long vmm = vmmPid(host.pid());
        String status = Files.readString(Path.of("/proc/" + vmm + "/status"));
        int uid = uidOf(status);
        assertNotEquals(0, uid, status);
        assertTrue(uid >= VmGroups.FIRST_UID, status);
        assertTrue(status.contains("Seccomp:\t2"), status);
        assertTrue(status.contains("NoNewPrivs:\t1"), status);
        assertTrue(status.contains("CapEff:\t0000000000000000"), status);
        for (String ns : List.of("mnt", "net", "pid")) {
            assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/" + ns)),
                    Files.readSymbolicLink(Path.of("/proc/" + vmm + "/ns/" + ns)), ns);
        }

        Path snapshots = data.resolve("snapshots").resolve(engine.snapshotKey()).resolve("functions");
        Path own = snapshots.resolve("probe/v1").resolve(Snapshot.MEMORY_FILE);
        Path other = snapshots.resolve("one/v1").resolve(Snapshot.MEMORY_FILE);
        assertTrue(Files.isRegularFile(own) && Files.isRegularFile(other), "both functions have snapshots");
        assertFalse(Files.exists(Path.of("/proc/" + vmm + "/root" + secret)), "the secret is not in its root");
        // Opened as the VMM would: in its mount namespace, as its uid.
        assertEquals("ok", openAs(vmm, uid, own));
        String denied = openAs(vmm, uid, other);
        assertTrue(denied.contains("Permission denied"), denied);
        String absent = openAs(vmm, uid, secret);
        assertTrue(absent.contains("No such file or directory"), absent);

        Jailer jailer = invoker.jail().jailer().orElseThrow();
        long expected = VmGroups.vmSlots(probe()) * (256L + engine.vmOverheadMib()) << 20;
        assertEquals(expected, jailer.cgroups().memoryLimitOf(vmm).orElseThrow());
    }

    /**
     * "ok" if the VMM's uid can open {@code path} as the VMM sees it, else what dd said: in its
     * mount namespace AND its root ({@code -r}; without it, nsenter resolves paths from the
     * namespace's original root, the copy of the host's tree the jail was cut from).
     */
    private static String openAs(long pid, int uid, Path path) throws Exception {
        Process p = new ProcessBuilder("nsenter", "-t", Long.toString(pid), "-m", "-r", "-S", Integer.toString(uid),
                "-G", Integer.toString(uid), "--", "dd", "if=" + path, "of=/dev/null", "bs=4096", "count=1")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return p.exitValue() == 0 ? "ok" : out;
    }

    private static int uidOf(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("Uid:")) {
                return Integer.parseInt(line.substring(4).trim().split("\\s+")[0]);
            }
        }
        throw new AssertionError("no Uid line in " + status);
    }

    /** The JVM under the jailer: the host process started is setpriv's, exec'd into the jailer. */
    private static long vmmPid(long started) {
        return ProcessHandle.of(started).orElseThrow().descendants()
                .filter(p -> p.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .findFirst().orElseThrow(() -> new AssertionError("no java under " + started)).pid();
    }

    @Test
    @Order(4)
    void aTimeoutDestroysTheVmAndTheNextCallWorks() throws IOException {
        long timeoutMs = 1500 * SLOWDOWN;
        deploy("slow", probe().withTimeout(Duration.ofMillis(timeoutMs)), new ArrayList<>());
        assertEquals("calls=1", text(call(invoker, "slow", "count")));
        CallException e = failure(start(invoker, "slow", "sleep " + 20000 * SLOWDOWN));
        assertEquals("timeout", e.code());
        // The agent's own deadline answers first, unless the guest is too slow to report it
        // within the host's 2 s of grace (the nested lab, at times): then the host's deadline does.
        String byAgent = "call did not finish within " + timeoutMs + " ms; the host should replace this instance";
        String byHost = "call [0-9a-f]+ to slow@1: instance \\d+ did not answer within " + (timeoutMs + 2000)
                + " ms; the instance was destroyed";
        assertTrue(e.getMessage().equals(byAgent) || e.getMessage().matches(byHost), e.getMessage());
        Await.until(SETTLE, 0, () -> invoker.state("slow").live(), "live instances after the timeout");
        CallResult next = call(invoker, "slow", "count");
        assertEquals("calls=1", text(next));
        assertTrue(next.timings().cold());
    }

    @Test
    @Order(5)
    void aGuestCrashFailsTheCallAndTheNextCallWorks() throws IOException {
        deploy("crashy", probe(), new ArrayList<>());
        CallException e = failure(start(invoker, "crashy", "halt"));
        assertEquals(CallException.Codes.CRASHED, e.code());
        assertTrue(e.getMessage().contains("the instance was destroyed"), e.getMessage());
        Await.until(SETTLE, 0, () -> invoker.state("crashy").live(), "live instances after the crash");
        assertEquals("calls=1", text(call(invoker, "crashy", "count")));
    }

    @Test
    @Order(6)
    void aFailedInitReportsTheFunctionsOutputAndKeepsThePreviousVersion() {
        StartFailure e = assertThrows(StartFailure.class, () -> deploy("probe",
                FunctionConfig.of("com.example.BadStatic").withMemoryMib(256), new ArrayList<>()));
        assertEquals("init_failed", e.code());
        assertEquals(1, invoker.current("probe").orElseThrow().version());
        assertEquals("calls=3", text(call(invoker, "probe", "count")), "version 1's warm instance still serves");
    }

    @Test
    @Order(7)
    void redeployWhileACallRunsLetsItFinish() throws IOException {
        CompletableFuture<CallResult> inFlight = start(invoker, "probe", "sleep 4000");
        Await.until(SETTLE, 1, () -> invoker.state("probe").inFlight(), "calls in flight");
        FunctionVersion v2 = deploy("probe", probe().withTimeout(Duration.ofSeconds(20)), new ArrayList<>());
        assertEquals(2, v2.version());
        CallResult old = join(inFlight);
        assertEquals(1, old.version());
        assertEquals("calls=4", text(old));
        CallResult fresh = call(invoker, "probe", "count");
        assertEquals(2, fresh.version());
        assertEquals("calls=1", text(fresh));
    }

    @Test
    @Order(8)
    void keepAliveExpiryDestroysTheVm() throws IOException {
        deploy("brief", probe().withKeepAlive(Duration.ofMillis(500)), new ArrayList<>());
        assertEquals("calls=1", text(call(invoker, "brief", "count")));
        Await.until(SETTLE, 0, () -> invoker.state("brief").live(), "live instances after keep-alive");
    }

    @Test
    @Order(9)
    void aRestartKeepsFunctionsAndTheirSnapshots() throws IOException {
        invoker.close();
        Await.until(SETTLE, List.of(), VmInvokerTest::vmsLeft, "VMs left after close");
        invoker = open();
        List<String> names = invoker.list().stream().map(FunctionVersion::name).toList();
        assertEquals(List.of("brief", "crashy", "one", "probe", "slow"), names);
        CallResult r = call(invoker, "probe", "count");
        assertEquals(2, r.version());
        assertEquals("calls=1", text(r));
        assertTrue(r.timings().cold());
        assertTrue(invoker.delete("probe"));
        assertEquals(CallException.Codes.NOT_FOUND, failure(start(invoker, "probe", "count")).code());
    }

    @Test
    @Order(10)
    void aNewGuestImageRebuildsSnapshotsLazily() throws IOException {
        invoker.close();
        GuestImage image = GuestImage.locate();
        Path copy = Files.createDirectories(data.resolve("images").resolve("rebuilt-image"));
        Files.copy(image.kernel(), copy.resolve("vmlinux"));
        Files.copy(image.initramfs(), copy.resolve("initramfs.cpio"));
        String before = System.getProperty(GuestImage.DIR_PROPERTY);
        System.setProperty(GuestImage.DIR_PROPERTY, copy.toString());
        try {
            invoker = open();
            // KVM engines' keys also name the host CPU; TCG's CPU is emulated, the same everywhere.
            String engine = invoker.engine().engine().name();
            String key = engine + "-rebuilt-image" + (engine.equals("qemu-tcg") ? "" : "-" + HostCpu.currentFingerprint());
            assertEquals(key, invoker.engine().engine().snapshotKey());
            try (Stream<Path> keys = Files.list(data.resolve("snapshots"))) {
                assertEquals(List.of(key), keys.map(p -> p.getFileName().toString()).toList(),
                        "the old image's snapshots are gone");
            }
            // This call boots a base and builds a function snapshot first (and, on the Java
            // engine, waits for its group's VMM host process, restarted for the new image's
            // paths): minutes in the lab, so its bound scales like the other deadlines.
            CallResult r = io.kiln.invoker.testing.Calls.join(start(invoker, "slow", "count"),
                    Duration.ofSeconds(Math.max(120, 40 * SLOWDOWN)));
            assertEquals("calls=1", text(r));
            assertTrue(r.timings().cold());
            assertTrue(Files.isDirectory(data.resolve("snapshots/" + key + "/functions/slow/v1")));
            assertTrue(Files.isDirectory(data.resolve("snapshots/" + key + "/base-256m")));
        } finally {
            if (before == null) {
                System.clearProperty(GuestImage.DIR_PROPERTY);
            } else {
                System.setProperty(GuestImage.DIR_PROPERTY, before);
            }
        }
    }

    @Test
    @Order(11)
    void twoClonesDrawDifferentRandomBytesAndTheirClockNeverGoesBack() throws IOException {
        // Zero keep-alive: each call is a fresh clone of the one function snapshot.
        deploy("clones", FunctionConfig.of("com.example.CloneProbe").withMemoryMib(256)
                .withKeepAlive(Duration.ZERO), new ArrayList<>());
        List<Map<String, String>> clones = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            CallResult r = call(invoker, "clones", "clone");
            assertTrue(r.timings().cold(), "call " + i + " ran on a fresh clone");
            Map<String, String> fields = new HashMap<>();
            for (String kv : text(r).split(" ")) {
                fields.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
            }
            assertEquals(Set.of("urandom", "secure", "initNanos", "nowNanos"), fields.keySet(), text(r));
            assertTrue(Long.parseLong(fields.get("nowNanos")) >= Long.parseLong(fields.get("initNanos")),
                    "the monotonic clock went back across the restore: " + text(r));
            clones.add(fields);
        }
        assertEquals(clones.get(0).get("initNanos"), clones.get(1).get("initNanos"), "both from one snapshot");
        assertNotEquals(clones.get(0).get("urandom"), clones.get(1).get("urandom"), "/dev/urandom shared by clones");
        assertNotEquals(clones.get(0).get("secure"), clones.get(1).get("secure"), "SecureRandom shared by clones");
    }
}
