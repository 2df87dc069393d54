package io.kiln.microvm.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Starts QEMU children so that none outlives this JVM, however it ends.
 *
 * <p>A normal exit is covered by {@link QemuGuest}'s shutdown hook. A killed JVM runs no
 * hooks, so each child is also started under {@code setpriv --pdeathsig KILL}: the kernel
 * kills it when its parent goes. The kernel ties that signal to the parent <em>thread</em>,
 * not the process, so every child is started from one thread that lives as long as the JVM;
 * started from a pooled thread, a child would die when the pool retired that thread.
 */
final class QemuProcesses {

    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    private static final ExecutorService SPAWNER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "kiln-qemu-spawner");
        t.setDaemon(true);
        return t;
    });

    private QemuProcesses() {
    }

    static Process start(List<String> argv) throws IOException {
        List<String> command = new ArrayList<>();
        if (Files.isExecutable(SETPRIV)) {
            command.addAll(List.of(SETPRIV.toString(), "--pdeathsig", "KILL", "--"));
        }
        command.addAll(argv);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        try {
            return SPAWNER.submit(builder::start).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("starting QEMU failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting QEMU", e);
        }
    }
}
