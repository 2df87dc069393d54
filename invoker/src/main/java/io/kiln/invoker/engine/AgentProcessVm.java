package io.kiln.invoker.engine;

import io.kiln.microvm.console.ConsoleLog;
import io.kiln.microvm.files.FileTrees;
import io.kiln.microvm.process.ChildProcesses;
import io.kiln.microvm.vm.MicroVm;
import io.kiln.microvm.vm.VmExit;
import io.kiln.microvm.vm.VmState;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A host-mode agent process seen as a {@link MicroVm}: the channel is its stdin/stdout, its
 * stderr is the "console". It cannot pause or snapshot.
 */
final class AgentProcessVm implements MicroVm {

    private final Process process;
    private final Path workDir;
    private final CompletableFuture<VmExit> exit = new CompletableFuture<>();
    private volatile VmState state = VmState.RUNNING;

    private AgentProcessVm(Process process, Path workDir, Consumer<String> console) {
        this.process = process;
        this.workDir = workDir;
        Thread pump = new Thread(() -> pumpStderr(console), "kiln-agent-stderr-" + process.pid());
        pump.setDaemon(true);
        pump.start();
        process.onExit().thenRun(() -> {
            if (state != VmState.DESTROYED) {
                state = VmState.STOPPED;
            }
            FileTrees.deleteQuietly(workDir); // under the invoker's work root either way
            exit.complete(new VmExit(state == VmState.DESTROYED ? VmExit.Reason.DESTROYED
                    : VmExit.Reason.GUEST_SHUTDOWN, "agent process exited with " + process.exitValue()));
        });
    }

    static AgentProcessVm start(List<String> command, Path workDir, Consumer<String> console) throws IOException {
        return new AgentProcessVm(ChildProcesses.start(new ProcessBuilder(command)), workDir, console);
    }

    private void pumpStderr(Consumer<String> console) {
        ConsoleLog log = new ConsoleLog(console, 1);
        byte[] buffer = new byte[8192];
        try (InputStream err = process.getErrorStream()) {
            for (int n; (n = err.read(buffer)) > 0; ) {
                log.accept(buffer, 0, n);
            }
        } catch (IOException e) {
            // The process went; its exit says the rest.
        }
        log.flush();
    }

    @Override
    public void start() {
        // Already running: a process starts when it is created.
    }

    @Override
    public void pause() {
        throw new UnsupportedOperationException("the process engine cannot pause an agent");
    }

    @Override
    public void resume() {
        throw new UnsupportedOperationException("the process engine cannot pause an agent");
    }

    @Override
    public void snapshot(Path directory) {
        throw new UnsupportedOperationException("the process engine cannot take snapshots");
    }

    @Override
    public void destroy() {
        if (state == VmState.DESTROYED) {
            return;
        }
        state = VmState.DESTROYED;
        process.destroyForcibly();
    }

    @Override
    public VmState state() {
        return state;
    }

    @Override
    public CompletableFuture<VmExit> exit() {
        return exit;
    }

    @Override
    public InputStream fromGuest() {
        return process.getInputStream();
    }

    @Override
    public OutputStream toGuest() {
        return process.getOutputStream();
    }
}
