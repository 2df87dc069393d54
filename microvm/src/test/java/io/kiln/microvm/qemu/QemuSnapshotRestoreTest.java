package io.kiln.microvm.qemu;

import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.vm.VmExit;
import io.kiln.microvm.vm.VmState;
import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.RestoredFrame;
import io.kiln.protocol.ShutdownFrame;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The QEMU engine's snapshots with the real guest image: one base boot, then clones restored
 * from its snapshot that run and answer independently while the snapshot files stay as they
 * were. A clone proves it runs by answering RESTORED, the first thing the host says to it.
 */
class QemuSnapshotRestoreTest {

    private static final FrameCodec CODEC = new FrameCodec();

    @TempDir
    static Path dir;

    private static Path base;

    @BeforeAll
    static void shareTheBaseSnapshot() {
        base = BaseSnapshot.get();
    }

    @Test
    void aSnapshottedGuestCanOnlyBeDestroyed() throws IOException {
        QemuVmConfig config = new QemuVmConfig(GuestImage.locate(), Accelerator.TCG, BaseSnapshot.MEMORY_MIB, 1, "");
        try (QemuGuest guest = QemuGuest.boot(config, true, line -> { })) {
            guest.snapshot(dir.resolve("never-started"));
            assertEquals(VmState.PAUSED, guest.state());
            IllegalStateException e = assertThrows(IllegalStateException.class, guest::resume);
            assertEquals("this guest's memory now belongs to its snapshot; restore the snapshot instead", e.getMessage());
        }
    }

    private static RestoredFrame restored(QemuGuest clone, byte fill) throws IOException {
        byte[] entropy = new byte[64];
        java.util.Arrays.fill(entropy, fill);
        CODEC.write(clone.toGuest(), new RestoredFrame("{\"epochMs\":" + System.currentTimeMillis() + "}", entropy));
        Frame answer = CODEC.read(clone.fromGuest());
        return assertInstanceOf(RestoredFrame.class, answer, () -> "expected the RESTORED ack, got " + answer);
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    @Test
    void theSnapshotIsDeviceStatePlusTheRamFile() throws IOException {
        QemuSnapshot snapshot = QemuSnapshot.load(base);
        assertEquals((long) BaseSnapshot.MEMORY_MIB << 20, Files.size(snapshot.memory()));
        assertTrue(Files.size(snapshot.state()) < 1 << 20, "device state should be small, was " + Files.size(snapshot.state()));
        assertEquals(BaseSnapshot.MEMORY_MIB, snapshot.info().memoryMib());
        assertEquals("qemu", snapshot.info().engine());
        assertEquals(GuestImage.locate().id(), snapshot.info().imageId());
    }

    @Test
    void twoClonesRunIndependentlyAndTheSnapshotNeverChanges() throws Exception {
        QemuSnapshot snapshot = QemuSnapshot.load(base);
        String memoryBefore = sha256(snapshot.memory());
        String stateBefore = sha256(snapshot.state());
        try (QemuGuest a = QemuGuest.restore(base, Accelerator.TCG, false, line -> { });
             QemuGuest b = QemuGuest.restore(base, Accelerator.TCG, false, line -> { })) {
            assertEquals(VmState.CREATED, a.state());
            a.start();
            b.start();
            String ackA = restored(a, (byte) 1).metadata();
            String ackB = restored(b, (byte) 2).metadata();
            assertTrue(ackA.contains("\"kernelEntropy\":true"), ackA);
            assertTrue(ackB.contains("\"kernelEntropy\":true"), ackB);
            // The kiln-restore that init started before the snapshot did the work: no process start.
            assertTrue(ackA.contains("\"kernelVia\":\"served\""), ackA);
            assertTrue(ackB.contains("\"kernelVia\":\"served\""), ackB);

            // Stop one clone from the inside: its agent exits, init resets the VM.
            CODEC.write(a.toGuest(), new ShutdownFrame("{\"reason\":\"test\"}"));
            VmExit exit = a.exit().get(60, TimeUnit.SECONDS);
            assertEquals(VmExit.Reason.GUEST_RESET, exit.reason(), exit::toString);
            assertEquals(VmState.STOPPED, a.state());

            // The other does not notice.
            assertTrue(restored(b, (byte) 3).metadata().contains("\"kernelEntropy\":true"));
            assertEquals(VmState.RUNNING, b.state());
        }
        assertEquals(memoryBefore, sha256(snapshot.memory()), "a clone wrote to the snapshot's memory file");
        assertEquals(stateBefore, sha256(snapshot.state()));
    }

    @Test
    void aRestoredGuestCanBeSnapshottedAgainAndThatSnapshotRestores() throws Exception {
        Path second = dir.resolve("second");
        try (QemuGuest guest = QemuGuest.restore(base, Accelerator.TCG, true, line -> { })) {
            guest.start();
            restored(guest, (byte) 4);
            guest.snapshot(second);
        }
        try (QemuGuest clone = QemuGuest.restore(second, Accelerator.TCG, false, line -> { })) {
            clone.start();
            assertTrue(restored(clone, (byte) 5).metadata().contains("\"kernelEntropy\":true"));
            clone.destroy();
            assertEquals(VmExit.Reason.DESTROYED, clone.exit().get(10, TimeUnit.SECONDS).reason());
        }
    }

    @Test
    void aQemuThatDiesUnderAGuestIsReportedAsAnErrorAndItsChannelEnds() throws Exception {
        try (QemuGuest clone = QemuGuest.restore(base, Accelerator.TCG, false, line -> { })) {
            clone.start();
            restored(clone, (byte) 6);
            ProcessHandle.of(clone.pid()).orElseThrow().destroyForcibly(); // as the OOM killer would
            VmExit exit = clone.exit().get(10, TimeUnit.SECONDS);
            assertEquals(VmExit.Reason.ERROR, exit.reason());
            assertEquals("QEMU exited (QEMU exit status 137)", exit.detail());
            assertEquals(VmState.STOPPED, clone.state());
            assertEquals(-1, clone.fromGuest().read(), "the channel of a dead guest should be at its end");
            IllegalStateException e = assertThrows(IllegalStateException.class, clone::pause);
            assertEquals("pause() on a guest that has stopped (STOPPED)", e.getMessage());
        }
    }

    @Test
    void aMissingOrForeignSnapshotIsRefusedClearly() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        QemuException e = assertThrows(QemuException.class, () -> QemuGuest.restore(empty, Accelerator.TCG, false, l -> { }));
        assertEquals("no QEMU snapshot in " + empty + " (snapshot.json missing)", e.getMessage());

        Path foreign = Files.createDirectories(dir.resolve("foreign"));
        Files.writeString(foreign.resolve("snapshot.json"), "{\"format\":99,\"engine\":\"qemu\"}");
        e = assertThrows(QemuException.class, () -> QemuSnapshot.load(foreign));
        assertEquals("snapshot " + foreign + " is format 99 of engine qemu; this build restores only format 1 of engine qemu",
                e.getMessage());
    }
}
