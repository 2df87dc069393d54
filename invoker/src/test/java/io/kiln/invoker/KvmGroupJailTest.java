package io.kiln.invoker;

import static io.kiln.invoker.testing.Calls.call;
import static io.kiln.invoker.testing.Calls.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.agent.testing.Fixtures;
import io.kiln.invoker.engine.KvmEngine;
import io.kiln.invoker.engine.VmGroups;
import io.kiln.invoker.store.FunctionConfig;
import io.kiln.microvm.group.VmHost;
import io.kiln.microvm.jail.Jailer;
import io.kiln.microvm.probe.KvmProbe;
import io.kiln.microvm.snapshot.Snapshot;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java engine's VMM host process of a deployed function, opened from the host side: it runs
 * as its group's uid under the seccomp filter, in its own namespaces, sees neither the node's
 * secrets nor another function's snapshots, and its cgroup carries the group's memory limit.
 * Hardware KVM only (the nested lab runs it: lab/run-kvm-tests.sh).
 */
class KvmGroupJailTest {
    private static final long SLOWDOWN = Long.getLong("kiln.test.slowdown", 1);

    @TempDir
    Path data;

    @Test
    void aFunctionsVmmHostProcessIsJailedSandboxedAndLimited() throws Exception {
        Assumptions.assumeTrue(KvmProbe.probeHost().hardware(), "needs hardware KVM: " + KvmProbe.probeHost());
        Path secret = Files.writeString(data.resolve("token"), "a stand-in for the gateway's token\n");
        FunctionConfig config = FunctionConfig.of("com.example.Probe").withMemoryMib(256);
        try (Invoker invoker = Invoker.start(InvokerConfig.defaults(data).withEngine("kvm").withJail("on")
                .withMemoryBudgetMib(3072).withStartTimeouts(Duration.ofMinutes(5), Duration.ofSeconds(10 * SLOWDOWN)),
                new SimpleMeterRegistry())) {
            invoker.deploy("fa", new ByteArrayInputStream(Fixtures.functions()), config, p -> { });
            invoker.deploy("fb", new ByteArrayInputStream(Fixtures.functions()), config, p -> { });
            assertEquals("calls=1", text(call(invoker, "fa", "count")));

            KvmEngine engine = (KvmEngine) invoker.engine().engine();
            VmHost host = engine.hosts().running("fa");
            assertNotNull(host, "fa's host process runs");
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
            Path own = snapshots.resolve("fa/v1").resolve(Snapshot.MEMORY_FILE);
            Path other = snapshots.resolve("fb/v1").resolve(Snapshot.MEMORY_FILE);
            assertTrue(Files.isRegularFile(own) && Files.isRegularFile(other), "both functions have snapshots");
            assertFalse(Files.exists(Path.of("/proc/" + vmm + "/root" + secret)), "the secret is not in its root");
            // Opened as the VMM would: in its mount namespace, as its uid.
            assertEquals("ok", openAs(vmm, uid, own));
            String denied = openAs(vmm, uid, other);
            assertTrue(denied.contains("Permission denied"), denied);
            String absent = openAs(vmm, uid, secret);
            assertTrue(absent.contains("No such file or directory"), absent);

            Jailer jailer = invoker.jail().jailer().orElseThrow();
            long expected = VmGroups.vmSlots(config) * (256L + engine.vmOverheadMib()) << 20;
            assertEquals(expected, jailer.cgroups().memoryLimitOf(vmm).orElseThrow());
        }
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
}
