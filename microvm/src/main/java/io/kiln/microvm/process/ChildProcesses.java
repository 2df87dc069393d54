package io.kiln.microvm.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Starts child processes (QEMU, host-mode agents) so that none outlives this JVM, however it
 * ends.
 *
 * <p>A normal exit is covered by the owners' shutdown hooks. A killed JVM runs no hooks, so
 * each child is also started under {@code setpriv --pdeathsig KILL}: the kernel
 * kills it when its parent goes. The kernel ties that signal to the parent <em>thread</em>,
 * not the process, so every child is started from one thread that lives as long as the JVM;
 * started from a pooled thread, a child would die when the pool retired that thread.
 */
public final class ChildProcesses {

    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    private static final ExecutorService SPAWNER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "kiln-child-spawner");
        t.setDaemon(true);
        return t;
    });

    private ChildProcesses() {
    }

    /** Starts {@code builder}'s command (its redirects kept) as a child that dies with this JVM. */
    public static Process start(ProcessBuilder builder) throws IOException {
        List<String> command = new ArrayList<>();
        if (Files.isExecutable(SETPRIV)) {
            command.addAll(List.of(SETPRIV.toString(), "--pdeathsig", "KILL", "--"));
        }
        command.addAll(builder.command());
        builder.command(command);
        try {
            return SPAWNER.submit(builder::start).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("starting " + command + " failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting " + command, e);
        }
    }
}
