package io.kiln.microvm.qemu;

import io.kiln.microvm.image.GuestImage;

/**
 * A host JVM for {@link QemuProcessHygieneTest}: boots a guest to READY, prints QEMU's pid,
 * then either waits to be killed ({@code wait}) or exits normally ({@code exit}).
 *
 * <p>It waits for READY because a guest still printing its boot log would die of a broken
 * stdout pipe with its parent anyway; a quiet, idle guest is the one that could linger.
 */
public final class HostJvmForQemu {

    private HostJvmForQemu() {
    }

    public static void main(String[] args) throws Exception {
        GuestImage image = GuestImage.locate();
        QemuGuest guest = QemuGuest.boot(new QemuVmConfig(image, Accelerator.TCG, 256, 1, ""), false, line -> { });
        guest.start();
        guest.awaitReady(java.time.Duration.ofMinutes(3));
        System.out.println("qemu-pid " + guest.pid());
        System.out.println("work-dir " + guest.workDirectory());
        System.out.flush();
        if (args[0].equals("exit")) {
            System.exit(0);
        }
        Thread.sleep(120_000);
    }
}
