package io.kiln.microvm.vm;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.testing.AgentFrames;
import io.kiln.microvm.testing.ConsoleCapture;
import io.kiln.microvm.testing.KvmAssumptions;
import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.ReadyFrame;
import io.kiln.protocol.RestoredFrame;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Java engine's base-snapshot life on a real Linux guest: boot to READY, snapshot, restore two
 * clones one after the other, and each answers RESTORED (its virtio-console, interrupts, timers
 * and clock work after a restore). Hardware KVM only, like {@link LinuxBootTest}; it runs in the
 * nested KVM lab ({@code lab/run-kvm-tests.sh}).
 */
class LinuxSnapshotRestoreTest {
    private static final long TIMEOUT_SECONDS = Long.getLong("kiln.test.guestTimeoutSeconds", 60);

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0} vCPU(s)")
    @ValueSource(ints = {2})
    void clonesOfABootedGuestAnswerRestored(int vcpus) throws Exception {
        KvmAssumptions.assumeHardwareKvm();
        GuestImage image = GuestImage.locate();
        Path snap = tmp.resolve("base");
        ConsoleCapture console = new ConsoleCapture();
        MicroVmConfig config = MicroVmConfig.builder().vcpus(vcpus).memoryMib(512).kernel(image.kernel())
                .initrd(image.initramfs()).commandLine(GuestImage.BASE_COMMAND_LINE)
                .consoleLog(console).build();
        long t0 = System.nanoTime();
        try (KvmMicroVm vm = KvmMicroVm.create(config)) {
            vm.start();
            Frame first = within("READY", console, () -> new FrameCodec().read(vm.fromGuest()));
            assertInstanceOf(ReadyFrame.class, first, () -> "first frame " + first + "; console:\n" + console.text());
            long t1 = System.nanoTime();
            vm.snapshot(snap);
            System.out.printf("LinuxSnapshotRestoreTest: READY after %.1f s, snapshot in %.2f s%n",
                    (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9);
        }
        for (String name : new String[] {"A", "B"}) {
            ConsoleCapture log = new ConsoleCapture();
            long t2 = System.nanoTime();
            try (KvmMicroVm clone = KvmSnapshots.restore(snap, log)) {
                clone.resume();
                byte[] entropy = new byte[32];
                Arrays.fill(entropy, (byte) name.charAt(0));
                // The agent's own restore deadline (10 s by default) is too short for the nested lab,
                // where everything is emulated: give it this test's timeout.
                String meta = "{\"epochMs\":" + System.currentTimeMillis() + ",\"restoreTimeoutMs\":"
                        + TIMEOUT_SECONDS * 1000 + "}";
                RestoredFrame ack = within("clone " + name + "'s RESTORED", log, () -> {
                    AgentFrames.send(clone, new RestoredFrame(meta, entropy));
                    return AgentFrames.expect(clone, RestoredFrame.class);
                });
                System.out.printf("LinuxSnapshotRestoreTest: clone %s answered RESTORED %.2f s after restore: %s%n",
                        name, (System.nanoTime() - t2) / 1e9, ack.metadata());
                if (Boolean.getBoolean("kiln.test.printConsole")) {
                    log.lines().forEach(line -> System.out.println("  clone " + name + "| " + line));
                }
                assertTrue(ack.metadata().contains("\"kernelEntropy\":true"), ack::metadata);
                assertTrue(ack.metadata().contains("\"kernelVia\":\"served\""), ack::metadata);
            }
        }
    }

    private static <T> T within(String what, ConsoleCapture console, Callable<T> step) throws Exception {
        CompletableFuture<T> f = CompletableFuture.supplyAsync(() -> {
            try {
                return step.call();
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        try {
            return f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("no " + what + " within " + TIMEOUT_SECONDS + " s; console:\n" + console.text(), e);
        }
    }
}
