package io.kiln.microvm.group;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.microvm.jail.JailSpec;
import io.kiln.microvm.jail.Jailer;
import io.kiln.microvm.testing.GuestBuild;
import io.kiln.microvm.testing.JailerBinary;
import io.kiln.microvm.testing.KvmAssumptions;
import io.kiln.microvm.vm.MicroVm;
import io.kiln.microvm.vm.VmExit;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A VMM host process in a real jail (kiln-jailer as root on this host) serving the echo guest,
 * looked at from outside through /proc: the JVM under the jailer is the VMM.
 */
class VmHostJailTest {
    private static final int UID = 899_980;
    private static final String PARENT = "kiln-test";
    private final String name = "vmmtest-" + ProcessHandle.current().pid();
    private Jailer jailer;

    @AfterEach
    void removeCgroup() throws Exception {
        if (jailer != null) {
            jailer.cgroups().remove(name);
        }
    }

    @Test
    void aJailedHostProcessServesVmsAsAnUnprivilegedUidUnderSeccompAndSeesOnlyItsPaths() throws Exception {
        KvmAssumptions.assumeKvm();
        jailer = Jailer.at(JailerBinary.path(), Path.of("/run/kiln/jail-root-test"), PARENT);
        Path kernel = GuestBuild.build("console_guest").toRealPath();
        Path base = Path.of(System.getProperty("kiln.test.work", "target/test-work"), "vmm-jail").toAbsolutePath().normalize();
        Path work = base.resolve("group");
        Files.createDirectories(work.resolve("tmp"));
        Path secret = Files.writeString(base.resolve("secret"), "not for the VMM");
        for (Path p : List.of(work, work.resolve("tmp"))) {
            Files.setAttribute(p, "unix:uid", UID);
            Files.setAttribute(p, "unix:gid", UID);
        }
        List<Path> readOnly = new ArrayList<>(VmHost.jvmReadOnly());
        readOnly.add(kernel);
        JailSpec spec = new JailSpec(name, UID, UID, readOnly, List.of(work.toRealPath()), true, 256L << 20, 1000);
        try (VmHost host = VmHost.start(name, work, true, c -> {
            try {
                return jailer.wrap(spec, c);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        })) {
            long vmm = vmmPid(host.pid());
            String status = Files.readString(Path.of("/proc/" + vmm + "/status"));
            assertTrue(status.contains("Uid:\t" + UID + "\t" + UID), status);
            assertTrue(status.contains("Seccomp:\t2"), status);
            assertTrue(status.contains("NoNewPrivs:\t1"), status);
            assertTrue(status.contains("CapEff:\t0000000000000000"), status);
            for (String ns : List.of("mnt", "net", "pid")) {
                assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/" + ns)),
                        Files.readSymbolicLink(Path.of("/proc/" + vmm + "/ns/" + ns)), ns);
            }
            Path root = Path.of("/proc/" + vmm + "/root");
            assertFalse(Files.exists(root.resolve(secret.toString().substring(1))), "the secret is not in its root");
            assertTrue(Files.exists(root.resolve(kernel.toString().substring(1))), "the kernel is");
            assertEquals(256L << 20, jailer.cgroups().memoryLimitOf(vmm).orElseThrow());

            MicroVm vm = host.boot(32, kernel, null, "console=ttyS0", true, false, line -> { });
            vm.start();
            DataOutputStream out = new DataOutputStream(vm.toGuest());
            DataInputStream in = new DataInputStream(vm.fromGuest());
            out.writeInt(3);
            out.write(new byte[]{1, 2, 3});
            out.flush();
            assertEquals(3, in.readInt());
            byte[] back = new byte[3];
            in.readFully(back);
            assertEquals(List.of((byte) 1, (byte) 2, (byte) 3), List.of(back[0], back[1], back[2]));
            vm.destroy();
            assertEquals(VmExit.Reason.DESTROYED, vm.exit().get(30, TimeUnit.SECONDS).reason());
        }
    }

    /** The JVM: the jailer's descendant that runs java (setpriv exec's the jailer, which forks it). */
    private static long vmmPid(long started) {
        return ProcessHandle.of(started).orElseThrow().descendants()
                .filter(p -> p.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .findFirst().orElseThrow(() -> new AssertionError("no java under " + started)).pid();
    }
}
