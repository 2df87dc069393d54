package io.kiln.microvm.group;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.microvm.testing.GuestBuild;
import io.kiln.microvm.testing.KvmAssumptions;
import io.kiln.microvm.vm.MicroVm;
import io.kiln.microvm.vm.VmExit;
import io.kiln.microvm.vm.VmState;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The VMM host process for real, under its seccomp filter, serving the echo guest (a tiny
 * virtio-console driver that sends back every channel byte): boot, channel, console, pause,
 * snapshot, restore, destroy, and the host process dying under a running VM.
 */
class VmHostTest {
    @TempDir
    Path work;

    /** Console lines as they come; await is bounded by a deadline, never a sleep. */
    private static final class Lines0 {
        final LinkedBlockingQueue<String> queue = new LinkedBlockingQueue<>();
        final StringBuilder all = new StringBuilder();

        void accept(String line) {
            synchronized (all) {
                all.append(line).append('\n');
            }
            queue.add(line);
        }

        void await(String line) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                String l = queue.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (line.equals(l)) {
                    return;
                }
            }
            throw new AssertionError("no console line " + line + "; console:\n" + all);
        }
    }

    private static void echo(MicroVm vm, int size, long seed) throws Exception {
        byte[] frame = new byte[size];
        new Random(seed).nextBytes(frame);
        DataOutputStream out = new DataOutputStream(vm.toGuest());
        DataInputStream in = new DataInputStream(vm.fromGuest());
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
                out.writeInt(size);
                out.write(frame);
                out.flush();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertEquals(size, in.readInt());
        byte[] back = new byte[size];
        in.readFully(back);
        writer.get(60, TimeUnit.SECONDS);
        assertArrayEquals(frame, back);
    }

    private VmHost startHost() throws IOException {
        Files.createDirectories(work.resolve("tmp"));
        return VmHost.start("test-group", work, true, UnaryOperator.identity());
    }

    @Test
    void bootEchoPauseSnapshotRestoreDestroyInTheHostProcess() throws Exception {
        KvmAssumptions.assumeKvm();
        Path kernel = GuestBuild.build("console_guest");
        Path snap = work.resolve("snap");
        try (VmHost host = startHost()) {
            String status = Files.readString(Path.of("/proc", Long.toString(host.pid()), "status"));
            // Under setpriv the JVM is setpriv's exec'd image: same pid.
            assertTrue(status.contains("Seccomp:\t2"), status);
            assertTrue(status.contains("NoNewPrivs:\t1"), status);

            Lines0 console = new Lines0();
            MicroVm vm = host.boot(64, kernel, null, "console=ttyS0", true, true, console::accept);
            assertEquals(VmState.CREATED, vm.state());
            vm.start();
            assertEquals(VmState.RUNNING, vm.state());
            console.await("READY");
            echo(vm, 100_000, 1);
            vm.pause();
            assertEquals(VmState.PAUSED, vm.state());
            vm.resume();
            echo(vm, 4097, 2);
            vm.snapshot(snap);
            assertEquals(VmState.PAUSED, vm.state());
            vm.destroy();
            assertEquals(VmState.DESTROYED, vm.state());
            assertEquals(VmExit.Reason.DESTROYED, vm.exit().get(30, TimeUnit.SECONDS).reason());

            Lines0 restoredConsole = new Lines0();
            MicroVm clone = host.restore(snap, restoredConsole::accept);
            assertEquals(VmState.PAUSED, clone.state());
            clone.start();
            echo(clone, 65536, 3);
            clone.destroy();

            IOException bad = assertThrows(IOException.class, () -> host.restore(work.resolve("no-such-snapshot"), l -> { }));
            assertTrue(bad.getMessage().contains("could not make the VM"), bad.getMessage());
            assertTrue(host.alive(), "a failed restore leaves the host process serving");
        }
    }

    @Test
    void aDeadHostProcessEndsItsVmsWithAReasonAndTheChannelEnds() throws Exception {
        KvmAssumptions.assumeKvm();
        Path kernel = GuestBuild.build("console_guest");
        try (VmHost host = startHost()) {
            Lines0 console = new Lines0();
            MicroVm vm = host.boot(32, kernel, null, "console=ttyS0", true, false, console::accept);
            vm.start();
            console.await("READY");
            ProcessHandle.of(host.pid()).orElseThrow().destroyForcibly();
            VmExit exit = vm.exit().get(60, TimeUnit.SECONDS);
            assertEquals(VmExit.Reason.ERROR, exit.reason());
            assertTrue(exit.detail().contains("VMM host process of test-group closed the connection"), exit.detail());
            assertEquals(-1, vm.fromGuest().read(), "the channel ends with the host process");
            assertEquals(VmState.STOPPED, vm.state());
            vm.destroy();
            assertFalse(host.alive());
            IOException e = assertThrows(IOException.class, () -> host.boot(32, kernel, null, "", true, false, l -> { }));
            assertTrue(e.getMessage().contains("cannot reach the VMM host process of test-group"), e.getMessage());
        }
    }

    /** Our guest image's kernel and initramfs together are ~100 MB, and a boot reads both into the heap. */
    @Test
    void aBootWithAnInitramfsOfOurImagesSizeFitsTheHostProcessHeap() throws Exception {
        KvmAssumptions.assumeKvm();
        Path kernel = GuestBuild.build("console_guest");
        Path initrd = work.resolve("initrd");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(initrd.toFile(), "rw")) {
            f.setLength(120L << 20);
        }
        try (VmHost host = startHost()) {
            Lines0 console = new Lines0();
            MicroVm vm = host.boot(256, kernel, initrd, "console=ttyS0", true, false, console::accept);
            vm.start();
            console.await("READY");
            MicroVm second = host.boot(256, kernel, initrd, "console=ttyS0", true, false, l -> { });
            second.destroy();
            vm.destroy();
            assertEquals(VmExit.Reason.DESTROYED, vm.exit().get(30, TimeUnit.SECONDS).reason());
        }
    }

    @Test
    void aHostProcessThatCannotStartSaysWhy() {
        IOException e = assertThrows(IOException.class, () -> VmHost.start("broken", work, true,
                c -> List.of("/bin/sh", "-c", "echo no kvm here; exit 3")));
        assertTrue(e.getMessage().contains("ended before it was ready"), e.getMessage());
        assertTrue(e.getMessage().contains("no kvm here"), e.getMessage());
    }
}
