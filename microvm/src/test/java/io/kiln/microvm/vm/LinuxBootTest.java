package io.kiln.microvm.vm;

import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.testing.ConsoleCapture;
import io.kiln.microvm.testing.KvmAssumptions;
import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.ReadyFrame;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Boots our real guest kernel + initramfs on the Java engine to the agent's READY frame.
 * Hardware KVM only: under kvm_pvm a stock kernel does not finish booting in minutes, so
 * there it is skipped with the probe's reason printed.
 */
class LinuxBootTest {

    @Test
    void linuxBootsToAgentReady() throws Exception {
        KvmAssumptions.assumeHardwareKvm();
        GuestImage image = GuestImage.locate();
        ConsoleCapture console = new ConsoleCapture();
        MicroVmConfig config = MicroVmConfig.builder().vcpus(2).memoryMib(512).kernel(image.kernel())
                .initrd(image.initramfs()).commandLine(GuestImage.BASE_COMMAND_LINE)
                .consoleLog(console).build();
        try (KvmMicroVm vm = KvmMicroVm.create(config)) {
            vm.start();
            CompletableFuture<Frame> first = CompletableFuture.supplyAsync(() -> {
                try {
                    return new FrameCodec().read(vm.fromGuest());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Frame frame = first.get(60, TimeUnit.SECONDS);
            ReadyFrame ready = assertInstanceOf(ReadyFrame.class, frame, () -> "first frame " + frame + "; console:\n" + console.text());
            assertTrue(ready.metadata().contains("\"protocol\":1"), ready::metadata);
        }
    }
}
