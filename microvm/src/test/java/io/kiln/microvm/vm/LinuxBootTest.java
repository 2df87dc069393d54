package io.kiln.microvm.vm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.microvm.testing.ConsoleCapture;
import io.kiln.microvm.testing.KvmAssumptions;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Boots our real guest kernel + initramfs to the agent's READY frame. Hardware KVM only: under
 * kvm_pvm a stock kernel does not finish booting in minutes, so there it is skipped with the
 * probe's reason.
 */
class LinuxBootTest {
    static Path guestDir() {
        String dir = System.getProperty("kiln.guest.dir", System.getenv("KILN_GUEST_DIR"));
        return dir != null ? Path.of(dir) : Path.of(System.getProperty("user.home"), ".cache/kiln/guest/current");
    }

    @Test
    void linuxBootsToAgentReady() throws Exception {
        KvmAssumptions.assumeHardwareKvm();
        Path dir = guestDir();
        boolean present = Files.exists(dir.resolve("vmlinux")) && Files.exists(dir.resolve("initramfs.cpio"));
        if (!present) {
            System.out.println("SKIP: no guest image in " + dir + " (build it with microvm/guest)");
        }
        Assumptions.assumeTrue(present, "no guest image in " + dir);
        ConsoleCapture console = new ConsoleCapture();
        MicroVmConfig config = MicroVmConfig.builder().vcpus(2).memoryMib(512).kernel(dir.resolve("vmlinux"))
                .initrd(dir.resolve("initramfs.cpio")).commandLine("console=ttyS0 reboot=k panic=1 quiet")
                .consoleLog(console).build();
        try (KvmMicroVm vm = KvmMicroVm.create(config)) {
            vm.start();
            // The agent's first frame is READY; look for its type name in the first bytes it sends.
            CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> {
                try {
                    InputStream in = vm.fromGuest();
                    return new String(in.readNBytes(64), StandardCharsets.ISO_8859_1);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            String bytes = first.get(60, TimeUnit.SECONDS);
            assertTrue(!bytes.isEmpty(), "agent sent nothing; console:\n" + console.text());
        }
    }
}
