package io.kiln.microvm.vm;

import io.kiln.microvm.testing.ConsoleCapture;
import io.kiln.microvm.testing.GuestBuild;
import io.kiln.microvm.testing.KvmAssumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kiln guests reboot with a triple fault ({@code reboot=t}, also after a panic): the Java engine
 * must call that a reset, as the QEMU engine does, so the invoker sees one reason on both.
 */
class TripleFaultGuestTest {

    @Test
    void aTripleFaultIsAGuestReset() throws Exception {
        KvmAssumptions.assumeKvm();
        Path kernel = GuestBuild.build("triple_fault_guest");
        ConsoleCapture console = new ConsoleCapture();
        MicroVmConfig config = MicroVmConfig.builder().memoryMib(16).kernel(kernel).commandLine("reboot=t")
                .functionChannel(false).rng(false).consoleLog(console).build();
        try (KvmMicroVm vm = KvmMicroVm.create(config)) {
            vm.start();
            VmExit exit = vm.exit().get(30, TimeUnit.SECONDS);
            assertTrue(console.lines().contains("TRIPLE"), console.text());
            assertEquals(VmExit.Reason.GUEST_RESET, exit.reason(), exit + "; console:\n" + console.text());
            assertTrue(exit.detail().contains("triple-faulted"), exit.detail());
        }
    }
}
