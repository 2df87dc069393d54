package io.kiln.microvm.qemu;

import io.kiln.microvm.image.GuestImage;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** No QEMU child outlives the JVM that started it: not on a normal exit, not on SIGKILL. */
class QemuProcessHygieneTest {

    private static Process hostJvm(String mode) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-D" + GuestImage.DIR_PROPERTY + "=" + GuestImage.locate().directory(),
                HostJvmForQemu.class.getName(), mode)
                .redirectErrorStream(true).start();
    }

    /** What the host JVM reports once its guest is READY. */
    private record Started(long qemuPid, Path workDir) {
    }

    private static Started started(Process host) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(host.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder printed = new StringBuilder();
        long pid = -1;
        for (String line; (line = out.readLine()) != null; ) {
            if (line.startsWith("qemu-pid ")) {
                pid = Long.parseLong(line.substring("qemu-pid ".length()));
            } else if (line.startsWith("work-dir ") && pid > 0) {
                return new Started(pid, Path.of(line.substring("work-dir ".length())));
            } else {
                printed.append(line).append('\n');
            }
        }
        throw new AssertionError("the host JVM exited with " + host.waitFor() + " before starting QEMU:\n" + printed);
    }

    private static boolean gone(long pid, long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            if (ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true)) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    @Test
    void aKilledHostJvmTakesItsQemuChildrenWithIt() throws Exception {
        Process host = hostJvm("wait");
        try {
            Started started = started(host);
            long qemu = started.qemuPid();
            assertTrue(ProcessHandle.of(qemu).map(ProcessHandle::isAlive).orElse(false), "QEMU should be running");
            host.destroyForcibly(); // SIGKILL: no shutdown hooks run
            assertTrue(host.waitFor(10, TimeUnit.SECONDS));
            assertTrue(gone(qemu, 5_000), "QEMU " + qemu + " survived its killed parent");
            // Its work directory outlives it, until the next host JVM sweeps it away.
            assertTrue(Files.isDirectory(started.workDir()));
            QemuGuest.sweepStaleWorkDirs(started.workDir().getParent());
            assertFalse(Files.exists(started.workDir()), "a dead host's work directory survived the sweep");
        } finally {
            host.destroyForcibly();
        }
    }

    @Test
    void aNormalExitDestroysQemuAndItsFiles() throws Exception {
        Process host = hostJvm("exit");
        Started started = started(host);
        assertTrue(Files.isDirectory(started.workDir()), "the guest's work directory should exist while it runs");
        assertTrue(host.waitFor(20, TimeUnit.SECONDS));
        assertTrue(gone(started.qemuPid(), 5_000), "QEMU " + started.qemuPid() + " survived its parent's exit");
        assertFalse(Files.exists(started.workDir()), "work directory left behind: " + started.workDir());
    }
}
