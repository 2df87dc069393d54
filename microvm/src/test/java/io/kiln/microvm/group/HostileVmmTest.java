package io.kiln.microvm.group;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.microvm.vm.MicroVm;
import io.kiln.microvm.vm.VmExit;
import io.kiln.microvm.vm.VmState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The control plane facing a compromised VMM host process: whatever it sends, the VM ends with
 * ERROR and a reason, nothing unbounded is kept, and console text arrives sanitised.
 */
class HostileVmmTest {
    @TempDir
    Path work;

    private VmHost hostile(String mode) throws Exception {
        Files.createDirectories(work.resolve("tmp"));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return VmHost.start("hostile", work, true, c -> List.of(java.toString(), "-XX:-UsePerfData", "-cp",
                System.getProperty("java.class.path"), HostileVmmMain.class.getName(),
                work.resolve("vmm.sock").toString(), mode));
    }

    @ParameterizedTest
    @CsvSource({
            "long-line, broke the protocol: a line longer than 65536 bytes",
            "bad-reason, broke the protocol: an unknown exit reason PWNED",
            "not-json, broke the protocol: not JSON"})
    void aProtocolViolationEndsTheVmWithTheReason(String mode, String reason) throws Exception {
        try (VmHost host = hostile(mode)) {
            List<String> console = new CopyOnWriteArrayList<>();
            MicroVm vm = host.boot(64, work.resolve("kernel"), null, "", true, false, console::add);
            VmExit exit = vm.exit().get(60, TimeUnit.SECONDS);
            assertEquals(VmExit.Reason.ERROR, exit.reason());
            assertTrue(exit.detail().contains("VMM host process of hostile " + reason), exit.detail());
            assertEquals(VmState.STOPPED, vm.state());
            assertEquals(List.of(), console, "nothing of the bad line reaches the console");
            vm.destroy();
        }
    }

    @ParameterizedTest
    @CsvSource("control-chars")
    void consoleLinesAndExitDetailsAreSanitised(String mode) throws Exception {
        try (VmHost host = hostile(mode)) {
            List<String> console = new ArrayList<>();
            MicroVm vm = host.boot(64, work.resolve("kernel"), null, "", true, false, line -> {
                synchronized (console) {
                    console.add(line);
                }
            });
            VmExit exit = vm.exit().get(60, TimeUnit.SECONDS);
            assertEquals(new VmExit(VmExit.Reason.GUEST_RESET, "bye?"), exit);
            synchronized (console) {
                assertEquals(List.of("evil[2Jline"), console);
            }
            vm.destroy();
        }
    }
}
