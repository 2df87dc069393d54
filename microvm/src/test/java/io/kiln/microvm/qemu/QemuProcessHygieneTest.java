package io.kiln.microvm.qemu;

import io.kiln.microvm.image.GuestImage;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    private static long qemuPid(Process host) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(host.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder printed = new StringBuilder();
        for (String line; (line = out.readLine()) != null; ) {
            if (line.startsWith("qemu-pid ")) {
                return Long.parseLong(line.substring("qemu-pid ".length()));
            }
            printed.append(line).append('\n');
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
            long qemu = qemuPid(host);
            assertTrue(ProcessHandle.of(qemu).map(ProcessHandle::isAlive).orElse(false), "QEMU should be running");
            host.destroyForcibly(); // SIGKILL: no shutdown hooks run
            assertTrue(host.waitFor(10, TimeUnit.SECONDS));
            assertTrue(gone(qemu, 5_000), "QEMU " + qemu + " survived its killed parent");
        } finally {
            host.destroyForcibly();
        }
    }

    @Test
    void aNormalExitDestroysQemuAndItsFiles() throws Exception {
        List<Path> before = kilnTempDirs();
        Process host = hostJvm("exit");
        long qemu = qemuPid(host);
        assertTrue(host.waitFor(20, TimeUnit.SECONDS));
        assertTrue(gone(qemu, 5_000), "QEMU " + qemu + " survived its parent's exit");
        List<Path> leaked = kilnTempDirs().stream().filter(p -> !before.contains(p)).toList();
        assertEquals(List.of(), leaked, "temporary directories left behind");
    }

    private static List<Path> kilnTempDirs() throws Exception {
        try (var s = java.nio.file.Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.filter(p -> p.getFileName().toString().startsWith("kiln-qemu-")).toList();
        }
    }
}
