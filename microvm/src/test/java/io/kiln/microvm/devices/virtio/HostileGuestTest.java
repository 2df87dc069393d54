package io.kiln.microvm.devices.virtio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.microvm.testing.ConsoleCapture;
import io.kiln.microvm.testing.GuestBuild;
import io.kiln.microvm.testing.KvmAssumptions;
import io.kiln.microvm.vm.KvmMicroVm;
import io.kiln.microvm.vm.MicroVmConfig;
import io.kiln.microvm.vm.VmExit;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Test 4: a guest attacks the console device from inside a VM; the host survives and the device says so. */
class HostileGuestTest {
    @Test
    void malformedQueuesNeedResetAndBogusWritesChangeNothing() throws Exception {
        KvmAssumptions.assumeKvm();
        Path kernel = GuestBuild.build("hostile_guest");
        ConsoleCapture console = new ConsoleCapture();
        MicroVmConfig config = MicroVmConfig.builder().memoryMib(64).kernel(kernel).rng(false).consoleLog(console).build();
        try (KvmMicroVm vm = KvmMicroVm.create(config)) {
            vm.start();
            VmExit exit = vm.exit().get(60, TimeUnit.SECONDS);
            assertEquals(VmExit.Reason.GUEST_RESET, exit.reason(), console.text());
            var lines = console.lines();
            for (String c : new String[] {"loop", "outside-ram", "oversize-length", "wrapping-address", "avail-index-jump",
                "next-out-of-queue", "rings-outside-ram"}) {
                assertTrue(lines.contains("CASE " + c + " NEEDS_RESET=1"), c + ":\n" + console.text());
            }
            assertTrue(lines.contains("CASE bogus-registers NEEDS_RESET=0 USED=1"), console.text());
            assertTrue(lines.contains("SURVIVED"), console.text());
            assertEquals(6, vm.devices().console().metrics().invalidChains.get(), "six chains rejected in the device");
            assertTrue(vm.devices().transports().get(0).ignoredAccesses() >= 4);
        }
    }
}
