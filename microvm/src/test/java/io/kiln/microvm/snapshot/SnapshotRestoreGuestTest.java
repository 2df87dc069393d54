package io.kiln.microvm.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.microvm.boot.HostCpu;
import io.kiln.microvm.kvm.MsrEntry;
import io.kiln.microvm.testing.ConsoleCapture;
import io.kiln.microvm.testing.GuestBuild;
import io.kiln.microvm.testing.KvmAssumptions;
import io.kiln.microvm.vm.KvmMicroVm;
import io.kiln.microvm.vm.KvmSnapshots;
import io.kiln.microvm.vm.MicroVmConfig;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Test 3: snapshot a counting guest mid-run, restore two clones, both continue independently. */
class SnapshotRestoreGuestTest {
    private static final long COUNTER = 0x300000;

    @TempDir
    Path tmp;

    private static long awaitCounter(KvmMicroVm vm, long above) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            long c = vm.memory().readLong(COUNTER);
            if (c > above) {
                return c;
            }
            Thread.sleep(5);
        }
        throw new AssertionError("counter never passed " + above + " (at " + vm.memory().readLong(COUNTER) + ")");
    }

    private static byte[] sha256(Path p) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p));
    }

    @Test
    void twoClonesContinueFromTheSameCountIndependently() throws Exception {
        KvmAssumptions.assumeKvm();
        Path kernel = GuestBuild.build("counter_guest");
        Path snap = tmp.resolve("snap");
        ConsoleCapture original = new ConsoleCapture();
        MicroVmConfig config = MicroVmConfig.builder().memoryMib(32).kernel(kernel).consoleLog(original).build();
        long atSnapshot;
        try (KvmMicroVm vm = KvmMicroVm.create(config)) {
            vm.start();
            original.await("COUNTING", Duration.ofSeconds(30));
            awaitCounter(vm, 50_000);
            vm.snapshot(snap);
            atSnapshot = vm.memory().readLong(COUNTER);
            Thread.sleep(50);
            assertEquals(atSnapshot, vm.memory().readLong(COUNTER), "a snapshotted VM stays paused");
        }
        byte[] memoryHash = sha256(snap.resolve(Snapshot.MEMORY_FILE));
        byte[] stateHash = sha256(snap.resolve(Snapshot.STATE_FILE));

        ConsoleCapture logA = new ConsoleCapture();
        ConsoleCapture logB = new ConsoleCapture();
        try (KvmMicroVm a = KvmSnapshots.restore(snap, logA); KvmMicroVm b = KvmSnapshots.restore(snap, logB)) {
            assertEquals(atSnapshot, a.memory().readLong(COUNTER));
            assertEquals(atSnapshot, b.memory().readLong(COUNTER));

            a.resume();
            long aRan = awaitCounter(a, atSnapshot + 100_000);
            assertEquals(atSnapshot, b.memory().readLong(COUNTER), "clone B has not run: A's writes are A's own");

            b.resume();
            awaitCounter(b, atSnapshot + 10_000);
            a.pause();
            b.pause();
            long aNow = a.memory().readLong(COUNTER);
            long bNow = b.memory().readLong(COUNTER);
            assertTrue(aNow >= aRan && bNow > atSnapshot, aNow + " " + bNow);

            a.memory().writeLong(0x400000, 0xA);
            assertEquals(0, b.memory().readLong(0x400000));
            a.resume();
            b.resume();
            awaitCounter(a, aNow + 1000);
            awaitCounter(b, bNow + 1000);
            assertFalse(a.exit().isDone(), "A stopped: " + (a.exit().isDone() ? a.exit().join() : ""));
            assertFalse(b.exit().isDone(), "B stopped");
        }
        assertFalse(logA.text().contains("MISMATCH"), logA.text());
        assertFalse(logB.text().contains("MISMATCH"), logB.text());
        assertFalse(original.text().contains("MISMATCH"), original.text());
        assertArrayEquals(memoryHash, sha256(snap.resolve(Snapshot.MEMORY_FILE)), "memory file unchanged");
        assertArrayEquals(stateHash, sha256(snap.resolve(Snapshot.STATE_FILE)), "state file unchanged");
    }

    @Test
    void aSnapshotRecordsItsCpuAndMsrsAndDoesNotRestoreOnAnotherCpu() throws Exception {
        KvmAssumptions.assumeKvm();
        Path kernel = GuestBuild.build("counter_guest");
        Path snap = tmp.resolve("snap");
        MicroVmConfig config = MicroVmConfig.builder().memoryMib(32).kernel(kernel).consoleLog(new ConsoleCapture()).build();
        try (KvmMicroVm vm = KvmMicroVm.create(config)) {
            vm.start();
            awaitCounter(vm, 1000);
            vm.snapshot(snap);
        }
        Snapshot s = KvmSnapshots.read(snap);
        assertEquals(HostCpu.current(), s.hostCpu());
        List<Integer> msrs = s.vcpuStates().get(0).msrs().stream().map(MsrEntry::index).toList();
        System.out.println("saved " + msrs.size() + " MSRs per vCPU, TSC " + s.tscKhz() + " kHz, on " + s.hostCpu().describe());
        for (int boot : new int[] {0x10, 0x174, 0xc0000081, 0xc0000082, 0xc0000084, 0xc0000102}) {
            assertTrue(msrs.contains(boot), "MSR 0x" + Integer.toHexString(boot) + " saved: " + msrs);
        }
        if (msrs.contains(0x6e0)) {
            assertEquals(0x6e0, msrs.get(msrs.size() - 1), "TSC deadline restored last, after the TSC");
        }

        HostCpu other = new HostCpu("GenuineIntel", 6, 0x55, 7, s.hostCpu().cpuidSha256());
        try (OutputStream out = Files.newOutputStream(snap.resolve(Snapshot.STATE_FILE))) {
            SnapshotFormat.write(new Snapshot(s.vcpus(), s.memoryBytes(), s.kernel(), s.commandLine(), other, s.tscKhz(),
                    s.vcpuStates(), s.machine(), s.serial(), s.virtio()), out);
        }
        HostCpuMismatchException e = assertThrows(HostCpuMismatchException.class,
                () -> KvmSnapshots.restore(snap, new ConsoleCapture()));
        assertEquals(other, e.snapshotCpu());
        assertEquals(HostCpu.current(), e.hostCpu());
        assertTrue(e.getMessage().contains("was taken on GenuineIntel family 0x6 model 0x55 stepping 7"), e.getMessage());
    }

    @Test
    void unknownVersionIsRejectedClearly() throws Exception {
        byte[] header = ByteBuffer.allocate(12).put(SnapshotFormat.MAGIC).putInt(99).array();
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class,
                () -> SnapshotFormat.read(new java.io.ByteArrayInputStream(header)));
        assertTrue(e.getMessage().contains("version 99 is not supported"), e.getMessage());
        SnapshotFormatException bad = assertThrows(SnapshotFormatException.class,
                () -> SnapshotFormat.read(new java.io.ByteArrayInputStream("NOTASNAPSHOT".getBytes())));
        assertTrue(bad.getMessage().contains("bad magic"), bad.getMessage());
        byte[] truncated = ByteBuffer.allocate(14).put(SnapshotFormat.MAGIC).putInt(SnapshotFormat.VERSION).putShort((short) 1).array();
        assertThrows(SnapshotFormatException.class, () -> SnapshotFormat.read(new java.io.ByteArrayInputStream(truncated)));
    }
}
