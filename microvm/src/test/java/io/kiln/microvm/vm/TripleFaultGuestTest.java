package io.kiln.microvm.vm;

import io.kiln.microvm.testing.ConsoleCapture;
import io.kiln.microvm.testing.GuestBuild;
import io.kiln.microvm.testing.KvmAssumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kiln guests reboot with a triple fault ({@code reboot=t}, also after a panic): the Java engine
 * must call that a reset, as the QEMU engine does, so the invoker sees one reason on both, and
 * end the function channel, which is how the invoker notices the crash.
 */
class TripleFaultGuestTest {

    @Test
    void aTripleFaultIsAGuestReset() throws Exception {
        KvmAssumptions.assumeKvm();
        Path kernel = GuestBuild.build("triple_fault_guest");
        ConsoleCapture console = new ConsoleCapture();
        MicroVmConfig config = MicroVmConfig.builder().memoryMib(16).kernel(kernel).commandLine("reboot=t")
                .functionChannel(true).rng(false).consoleLog(console).build();
        try (KvmMicroVm vm = KvmMicroVm.create(config)) {
            vm.start();
            VmExit exit = vm.exit().get(30, TimeUnit.SECONDS);
            assertTrue(console.lines().contains("TRIPLE"), console.text());
            assertEquals(VmExit.Reason.GUEST_RESET, exit.reason(), exit + "; console:\n" + console.text());
            assertTrue(exit.detail().contains("triple-faulted"), exit.detail());
            // Without the end of stream, a reader waiting for the guest's next frame waits forever.
            int read = CompletableFuture.supplyAsync(() -> {
                try {
                    return vm.fromGuest().read();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).get(30, TimeUnit.SECONDS);
            assertEquals(-1, read, "the function channel ends once the guest has stopped");
        }
    }
}
