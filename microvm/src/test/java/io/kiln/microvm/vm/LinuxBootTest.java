package io.kiln.microvm.vm;

import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.testing.ConsoleCapture;
import io.kiln.microvm.testing.KvmAssumptions;
import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.ReadyFrame;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Boots our real guest kernel + initramfs on the Java engine to the agent's READY frame.
 * Hardware KVM only: under kvm_pvm a stock kernel does not finish booting in minutes, so
 * there it is skipped with the probe's reason printed. It runs in the nested KVM lab
 * ({@code lab/run-kvm-tests.sh}), with one vCPU and with two (the MP table, the APs' start-up).
 */
class LinuxBootTest {
    /** How long the agent may take to say READY; the nested lab, all emulated, needs more. */
    private static final long TIMEOUT_SECONDS = Long.getLong("kiln.test.guestTimeoutSeconds", 60);

    @ParameterizedTest(name = "{0} vCPU(s)")
    @ValueSource(ints = {1, 2})
    void linuxBootsToAgentReady(int vcpus) throws Exception {
        KvmAssumptions.assumeHardwareKvm();
        GuestImage image = GuestImage.locate();
        ConsoleCapture console = new ConsoleCapture();
        MicroVmConfig config = MicroVmConfig.builder().vcpus(vcpus).memoryMib(512).kernel(image.kernel())
                .initrd(image.initramfs()).commandLine(GuestImage.BASE_COMMAND_LINE)
                .consoleLog(console).build();
        try (KvmMicroVm vm = KvmMicroVm.create(config)) {
            long started = System.nanoTime();
            vm.start();
            CompletableFuture<Frame> first = CompletableFuture.supplyAsync(() -> {
                try {
                    return new FrameCodec().read(vm.fromGuest());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Frame frame;
            try {
                frame = first.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError("no frame from the agent within " + TIMEOUT_SECONDS + " s (" + vcpus
                        + " vCPUs); console:\n" + console.text(), e);
            }
            System.out.printf("LinuxBootTest: READY with %d vCPU(s) %.1f s after start%n", vcpus,
                    (System.nanoTime() - started) / 1e9);
            if (Boolean.getBoolean("kiln.test.printConsole")) {
                console.lines().forEach(line -> System.out.println("  guest| " + line));
            }
            ReadyFrame ready = assertInstanceOf(ReadyFrame.class, frame, () -> "first frame " + frame + "; console:\n" + console.text());
            assertTrue(ready.metadata().contains("\"protocol\":1"), ready::metadata);
        }
    }
}
