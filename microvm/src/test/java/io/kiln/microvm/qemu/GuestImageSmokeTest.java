package io.kiln.microvm.qemu;

import io.kiln.microvm.image.GuestImage;
import io.kiln.protocol.ReadyFrame;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Boots the real guest image (our kernel, init, the jlink'd JRE and the agent) on QEMU's
 * microvm machine and waits for the agent's READY frame on the function channel. Under TCG
 * (no hardware KVM, as on our CI machines) this takes a few seconds.
 *
 * <p>The image must have been built (./test.sh does it first); a missing image fails this
 * test with the command that builds it, it never skips.
 */
class GuestImageSmokeTest {

    private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);

    @Test
    void guestImageBootsToAgentReady() {
        GuestImage image = GuestImage.locate();
        List<String> console = new CopyOnWriteArrayList<>();
        Path workDir;
        long pid;
        try (QemuGuest guest = QemuGuest.boot(new QemuVmConfig(image, Accelerator.TCG, 512, 1, ""), false, console::add)) {
            pid = guest.pid();
            guest.start();
            ReadyFrame ready = guest.awaitReady(READY_TIMEOUT);
            String meta = ready.metadata();
            assertTrue(meta.contains("\"protocol\":1"), () -> "READY metadata without protocol 1: " + meta);
            assertTrue(meta.contains("\"java\":\"" + Runtime.version().feature()),
                    () -> "READY metadata should name the guest's Java " + Runtime.version().feature() + ": " + meta);
            // quiet: the kernel's boot log stays off the console (on the Java engine each byte of
            // it is a vCPU exit); init's own lines are what show that /init ran.
            assertFalse(console.stream().anyMatch(l -> l.contains("Linux version")),
                    () -> "the kernel's boot log reached the console; console:\n" + String.join("\n", console));
            assertTrue(console.stream().anyMatch(l -> l.startsWith("kiln-init: starting agent")),
                    () -> "init never started the agent; console:\n" + String.join("\n", console));
        }
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "QEMU survived close()");
    }

    @Test
    void aGuestThatCannotStartItsInitFailsWithTheConsoleTail() {
        GuestImage image = GuestImage.locate();
        // No such init: the kernel panics, panic=-1 resets, and -no-reboot ends QEMU.
        try (QemuGuest guest = QemuGuest.boot(
                new QemuVmConfig(image, Accelerator.TCG, 256, 1, "rdinit=/no-such-init"), false, line -> { })) {
            guest.start();
            QemuException e = assertThrows(QemuException.class, () -> guest.awaitReady(READY_TIMEOUT));
            assertTrue(e.getMessage().startsWith("the guest stopped (guest-reset) before reporting READY"), e::getMessage);
            assertTrue(e.getMessage().contains("Kernel panic"), () -> "console tail missing: " + e.getMessage());
            assertFalse(guest.isAlive());
        }
    }

    @Test
    void aMissingImageSaysHowToBuildIt() {
        Path nowhere = Path.of(System.getProperty("java.io.tmpdir"), "kiln-no-such-image");
        assertFalse(Files.exists(nowhere));
        var e = assertThrows(io.kiln.microvm.image.GuestImageException.class, () -> GuestImage.at(nowhere));
        assertEquals("guest image directory " + nowhere
                + " does not exist: build it with microvm/guest/build.sh (./run.sh and ./test.sh do)", e.getMessage());
    }
}
