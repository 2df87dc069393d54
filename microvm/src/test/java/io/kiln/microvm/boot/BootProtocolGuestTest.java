package io.kiln.microvm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.microvm.testing.ConsoleCapture;
import io.kiln.microvm.testing.GuestBuild;
import io.kiln.microvm.testing.KvmAssumptions;
import io.kiln.microvm.vm.KvmMicroVm;
import io.kiln.microvm.vm.MicroVmConfig;
import io.kiln.microvm.vm.VmExit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Test 1: a guest entered like Linux's 64-bit entry reads back the zero page we built. */
class BootProtocolGuestTest {
    @TempDir
    Path tmp;

    @Test
    void guestSeesE820CommandLineInitrdAndMpTable() throws Exception {
        KvmAssumptions.assumeKvm();
        Path kernel = GuestBuild.build("boot_guest");
        byte[] initrd = new byte[65536 + 123];
        new Random(42).nextBytes(initrd);
        Path initrdFile = Files.write(tmp.resolve("initrd.img"), initrd);
        String cmdline = "console=ttyS0 reboot=k kiln.test=boot quiet";
        ConsoleCapture console = new ConsoleCapture();
        MicroVmConfig config = MicroVmConfig.builder().vcpus(2).memoryMib(64).kernel(kernel).initrd(initrdFile)
                .commandLine(cmdline).functionChannel(false).rng(false).consoleLog(console).build();

        try (KvmMicroVm vm = KvmMicroVm.create(config)) {
            vm.start();
            VmExit exit = vm.exit().get(60, TimeUnit.SECONDS);
            assertEquals(VmExit.Reason.GUEST_RESET, exit.reason(), console.text());
        }
        List<String> lines = console.lines();
        assertTrue(lines.contains("DONE"), console.text());
        assertTrue(lines.contains("BOOTFLAG aa55 HDRS 53726448 LOADER ff"), console.text());
        long ram = 64L << 20;
        assertEquals(List.of("E820 2",
                        String.format("E820 %016x %016x 1", 0L, 0x9fc00L),
                        String.format("E820 %016x %016x 1", 0x100000L, ram - 0x100000L)),
                lines.stream().filter(l -> l.startsWith("E820")).toList());
        assertTrue(lines.contains("CMDLINE " + cmdline), console.text());
        long initrdAddr = (ram - initrd.length) & ~0xfffL;
        assertTrue(lines.contains(String.format("INITRD %016x %016x %08x", initrdAddr, (long) initrd.length, fnv1a(initrd))),
                console.text());
        assertTrue(lines.contains("CPUID1 APIC 0 HYPERVISOR 1"), console.text());
        assertTrue(lines.contains("MPTABLE OK CPUS 2 IOAPIC 2"), console.text());
        String cr = lines.stream().filter(l -> l.startsWith("CR0")).findFirst().orElseThrow();
        long cr0 = Long.parseLong(cr.substring(4, 12), 16);
        assertTrue((cr0 & 0x80000001L) == 0x80000001L, "paging and protection on: " + cr);
    }

    static int fnv1a(byte[] b) {
        int h = 0x811c9dc5;
        for (byte x : b) {
            h ^= x & 0xff;
            h *= 16777619;
        }
        return h;
    }
}
