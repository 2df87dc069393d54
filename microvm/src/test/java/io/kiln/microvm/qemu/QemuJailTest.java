package io.kiln.microvm.qemu;

import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.jail.Jail;
import io.kiln.microvm.jail.Jailer;
import io.kiln.microvm.jail.VmGroup;
import io.kiln.microvm.testing.JailerBinary;
import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.RestoredFrame;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * QEMU in a jail, for real under TCG: a base booted in one group, snapshotted, and restored in
 * another group (privately and snapshotable), each QEMU looked at from outside.
 */
class QemuJailTest {

    private static final int BASE_UID = 899_980;
    private static final int FUNCTION_UID = 899_981;
    private static final FrameCodec CODEC = new FrameCodec();

    @TempDir
    static Path dir;

    private static Jailer jailer;
    private static VmGroup base;
    private static VmGroup function;

    @BeforeAll
    static void jailer() throws Exception {
        jailer = Jailer.at(JailerBinary.path(), Path.of("/run/kiln/jail-root-test"), "kiln-test");
        base = new VmGroup("qemujailtest-base-" + ProcessHandle.current().pid(), BASE_UID, BASE_UID, 768L << 20, 1000);
        function = new VmGroup("qemujailtest-fn-" + ProcessHandle.current().pid(), FUNCTION_UID, FUNCTION_UID, 768L << 20, 500);
    }

    @AfterAll
    static void removeGroups() throws IOException {
        jailer.cgroups().remove(base.name());
        jailer.cgroups().remove(function.name());
    }

    private static String status(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(field + ":")) {
                return line.substring(field.length() + 1).trim();
            }
        }
        throw new AssertionError("no " + field + " in /proc/" + pid + "/status");
    }

    /** What every jailed QEMU must be, seen from outside. */
    private static void assertJailed(QemuGuest guest, VmGroup group, Path hidden) throws IOException {
        long pid = guest.vmmPid();
        assertNotEquals(guest.pid(), pid, "QEMU should be the jailer's child");
        assertTrue(Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).startsWith("/usr/bin/qemu-system-x86_64"));
        assertEquals(group.uid() + "\t" + group.uid() + "\t" + group.uid() + "\t" + group.uid(), status(pid, "Uid"));
        assertEquals("2", status(pid, "Seccomp"), "QEMU's -sandbox filter is not installed");
        assertEquals("1", status(pid, "NoNewPrivs"));
        assertEquals("0000000000000000", status(pid, "CapEff"));
        for (String ns : List.of("mnt", "net", "pid")) {
            assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns", ns)),
                    Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", ns)), ns);
        }
        Path root = Path.of("/proc", Long.toString(pid), "root");
        assertTrue(Files.isRegularFile(root.resolve(GuestImage.locate().kernel().toString().substring(1))));
        assertFalse(Files.exists(root.resolve(hidden.toString().substring(1))), hidden + " is visible to QEMU");
        assertFalse(Files.exists(root.resolve("etc")), "/etc is visible to QEMU");
        assertEquals(OptionalLong.of(group.memoryLimitBytes()), jailer.cgroups().memoryLimitOf(pid));
    }

    @Test
    void aJailedBaseSnapshotRestoresInAnotherGroupsJail() throws Exception {
        Path secret = Files.writeString(Files.createDirectories(dir.resolve("elsewhere")).resolve("secret"), "secret");
        Path snapshot = dir.resolve("base");
        QemuVmConfig config = new QemuVmConfig(GuestImage.locate(), Accelerator.TCG, BaseSnapshot.MEMORY_MIB, 1, "");
        try (QemuGuest guest = QemuGuest.boot(config, true, line -> { }, new Jail(jailer, base))) {
            guest.start();
            guest.awaitReady(Duration.ofMinutes(3));
            assertJailed(guest, base, secret.getParent());
            guest.snapshot(snapshot);
        }
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(snapshot)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(snapshot.resolve("memory"))));
        assertEquals(BASE_UID, Files.getAttribute(snapshot.resolve("memory"), "unix:uid"), "QEMU made the RAM file");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(snapshot.resolve("state"))));

        // Snapshotable: the host copies the memory and streams the state; the base stays the base's.
        try (QemuGuest clone = QemuGuest.restore(snapshot, Accelerator.TCG, true, line -> { }, new Jail(jailer, function))) {
            clone.start();
            assertJailed(clone, function, snapshot);
            assertEquals(FUNCTION_UID, Files.getAttribute(clone.workDirectory().resolve("memory"), "unix:uid"));
            assertRestores(clone);
        }
        assertEquals(BASE_UID, Files.getAttribute(snapshot.resolve("memory"), "unix:uid"));

        // Private: QEMU maps the snapshot's memory itself, the one file of it the jail shows.
        byte[] before = Files.readAllBytes(snapshot.resolve("state"));
        try (QemuGuest clone = QemuGuest.restore(snapshot, Accelerator.TCG, false, line -> { }, new Jail(jailer, function))) {
            clone.start();
            Path root = Path.of("/proc", Long.toString(clone.vmmPid()), "root");
            assertTrue(Files.isRegularFile(root.resolve(snapshot.resolve("memory").toString().substring(1))));
            assertFalse(Files.exists(root.resolve(snapshot.resolve("state").toString().substring(1))));
            assertEquals(FUNCTION_UID, Files.getAttribute(snapshot.resolve("memory"), "unix:uid"));
            assertRestores(clone);
        }
        assertEquals(List.of(), List.of(Files.readAllBytes(snapshot.resolve("state"))).stream()
                .filter(b -> !java.util.Arrays.equals(b, before)).toList(), "the snapshot's state changed");
    }

    /** The clone runs: its agent answers RESTORED. */
    private static void assertRestores(QemuGuest clone) throws IOException {
        byte[] entropy = new byte[64];
        CODEC.write(clone.toGuest(), new RestoredFrame("{\"epochMs\":" + System.currentTimeMillis() + "}", entropy));
        Frame answer = CODEC.read(clone.fromGuest());
        assertInstanceOf(RestoredFrame.class, answer);
    }

    @Test
    void aJailThatCannotBeBuiltFailsTheStartWithTheJailersReason() throws Exception {
        Path gone = Path.of("/run/kiln/jail-root-test-gone-" + ProcessHandle.current().pid());
        Jailer broken = Jailer.at(JailerBinary.path(), gone, "kiln-test");
        Files.delete(gone); // after the probe: the jailer finds no root to mount its tmpfs on
        QemuVmConfig config = new QemuVmConfig(GuestImage.locate(), Accelerator.TCG, BaseSnapshot.MEMORY_MIB, 1, "");
        QemuException e = org.junit.jupiter.api.Assertions.assertThrows(QemuException.class,
                () -> QemuGuest.boot(config, false, line -> { }, new Jail(broken, base)));
        assertEquals("booting " + config.image().id() + " failed: the jailer exited with status 125 before starting QEMU: "
                + "| kiln-jailer: --root: " + gone + ": No such file or directory", e.getMessage());
    }
}
