package io.kiln.microvm.qemu;

import io.kiln.microvm.files.FileTrees;
import io.kiln.microvm.image.GuestImage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The one booted base snapshot the QEMU tests of a test run share: booting the guest image
 * under TCG costs seconds, restoring it a fraction of one. Made on first use, deleted when
 * the test JVM exits.
 */
final class BaseSnapshot {

    static final int MEMORY_MIB = 256;

    private static Path directory;
    private static long bootToReadyMillis;

    private BaseSnapshot() {
    }

    static synchronized Path get() {
        if (directory == null) {
            try {
                Path root = Files.createTempDirectory("kiln-base-snapshot-");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> FileTrees.deleteQuietly(root)));
                Path dir = root.resolve("base");
                long start = System.nanoTime();
                QemuVmConfig config = new QemuVmConfig(GuestImage.locate(), Accelerator.TCG, MEMORY_MIB, 1, "");
                try (QemuGuest guest = QemuGuest.boot(config, true, line -> { })) {
                    guest.start();
                    guest.awaitReady(Duration.ofMinutes(3));
                    bootToReadyMillis = (System.nanoTime() - start) / 1_000_000;
                    guest.snapshot(dir);
                }
                System.out.println("base snapshot: booted to READY in " + bootToReadyMillis + " ms under TCG");
                directory = dir;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return directory;
    }
}
