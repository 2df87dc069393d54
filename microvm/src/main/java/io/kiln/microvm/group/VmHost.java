package io.kiln.microvm.group;

import io.kiln.microvm.jail.Jailer;
import io.kiln.microvm.process.ChildProcesses;
import io.kiln.microvm.vm.VmState;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The control plane's handle on one running VMM host process ({@link VmHostMain}): starts it
 * (optionally wrapped, e.g. by the jailer), waits for its ready line, and opens VMs in it
 * ({@link RemoteMicroVm}). What the process prints after the ready line goes to the log,
 * bounded and sanitised: it is the less trusted side.
 */
public final class VmHost implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(VmHost.class.getName());
    /** A JVM start; minutes only when the machine is nested and loaded (the lab). */
    static final Duration READY_TIMEOUT = Duration.ofMinutes(2);
    /** Longest socket path a sockaddr_un holds (108 bytes with its NUL). */
    private static final int MAX_SOCKET_PATH = 107;
    /**
     * The host JVM's options: a heap that starts small and gives memory back (guest RAM is
     * mmap'd outside it; the heap holds buffers and a few objects per VM, except during a boot,
     * which reads the kernel into it: ~18 MB with our image; the initramfs is streamed), the
     * serial GC (one GC thread, no per-core structures), C1 only (the hot loops are JNA calls
     * into KVM_RUN, not Java maths), no perf-data file.
     */
    public static final List<String> JVM_OPTIONS = List.of("-Xms8m", "-Xmx128m", "-XX:MinHeapFreeRatio=10",
            "-XX:MaxHeapFreeRatio=30", "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-Xss512k", "-XX:MaxMetaspaceSize=64m",
            "-XX:ReservedCodeCacheSize=24m");

    private final String group;
    private final Path socket;
    private final Process process;
    private final long startedNanos;
    private final long readyNanos;

    private VmHost(String group, Path socket, Process process, long startedNanos, long readyNanos) {
        this.group = group;
        this.socket = socket;
        this.process = process;
        this.startedNanos = startedNanos;
        this.readyNanos = readyNanos;
    }

    /**
     * The command that runs a host process for {@code workDir}: this JVM's java and class path,
     * temp files (JNA's unpacked native library) in {@code workDir/tmp}.
     */
    public static List<String> command(Path workDir, boolean seccomp) {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> c = new ArrayList<>();
        c.add(java.toString());
        c.addAll(JVM_OPTIONS);
        c.add("-Djava.io.tmpdir=" + workDir.resolve("tmp"));
        c.add("-Djna.tmpdir=" + workDir.resolve("tmp"));
        c.add("-cp");
        c.add(System.getProperty("java.class.path"));
        c.add(VmHostMain.class.getName());
        c.add("--socket");
        c.add(socketOf(workDir).toString());
        c.add("--seccomp");
        c.add(seccomp ? "on" : "off");
        return c;
    }

    /**
     * What a jailed host process must see read-only to run: the JDK (java.home and what its
     * files link to outside /usr) and every entry of the class path it is given.
     */
    public static List<Path> jvmReadOnly() throws IOException {
        List<Path> paths = new ArrayList<>();
        paths.add(Path.of(System.getProperty("java.home")).toRealPath());
        paths.addAll(Jailer.javaReadOnly());
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path p = Path.of(entry);
            if (!entry.isEmpty() && Files.exists(p)) {
                paths.add(p.toRealPath());
            }
        }
        return paths;
    }

    static Path socketOf(Path workDir) {
        return workDir.resolve("vmm.sock");
    }

    /**
     * Starts the host process for {@code group} in {@code workDir} (which must exist, with a
     * {@code tmp} directory it can write), {@code wrap} turning its command into the one run
     * (the jailer's, or itself), and waits until it listens.
     */
    public static VmHost start(String group, Path workDir, boolean seccomp, UnaryOperator<List<String>> wrap)
            throws IOException {
        Path socket = socketOf(workDir.toAbsolutePath());
        if (socket.toString().getBytes().length > MAX_SOCKET_PATH) {
            throw new IOException("the VMM socket path is longer than " + MAX_SOCKET_PATH + " bytes: " + socket);
        }
        long started = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(wrap.apply(command(workDir.toAbsolutePath(), seccomp)))
                .redirectErrorStream(true);
        Process p = ChildProcesses.start(pb);
        CompletableFuture<String> ready = new CompletableFuture<>();
        Thread out = new Thread(() -> pumpOutput(group, p.getInputStream(), ready), "vmm-output-" + group);
        out.setDaemon(true);
        out.start();
        try {
            ready.get(READY_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            p.destroyForcibly();
            String why = e instanceof TimeoutException ? "did not get ready in " + READY_TIMEOUT.toSeconds() + " s"
                    : e.getCause().getMessage();
            throw new IOException("the VMM host process of " + group + " " + why, e);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting the VMM host process of " + group, e);
        }
        return new VmHost(group, socket, p, started, System.nanoTime());
    }

    /**
     * Reads the process's output: lines before the ready line are kept for the error message if
     * it never comes; lines after it go to the log. Each line is bounded and sanitised.
     */
    private static void pumpOutput(String group, InputStream raw, CompletableFuture<String> ready) {
        InputStream in = new BufferedInputStream(raw);
        StringBuilder early = new StringBuilder();
        try {
            String line;
            while ((line = Lines.read(in)) != null) {
                String clean = Messages.clip(line);
                if (!ready.isDone()) {
                    if (clean.startsWith(Messages.READY)) {
                        ready.complete(clean);
                        LOG.log(System.Logger.Level.DEBUG, "VMM host process of " + group + ": " + clean);
                        continue;
                    }
                    if (early.length() < Messages.MAX_TEXT) {
                        early.append("\n    | ").append(clean);
                    }
                } else {
                    LOG.log(System.Logger.Level.INFO, "VMM host process of " + group + ": " + clean);
                }
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "VMM host process of " + group + ": " + e.getMessage());
        }
        ready.completeExceptionally(new IOException("ended before it was ready; its output:" + early));
    }

    public String group() {
        return group;
    }

    /** The pid of the process started (the jailer's when jailed: the JVM is its descendant). */
    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** Start to listening, in microseconds. */
    public long startMicros() {
        return (readyNanos - startedNanos) / 1000;
    }

    /** Completes when the process has ended, with its exit code. */
    public CompletableFuture<Process> ended() {
        return process.onExit();
    }

    /** " (the host process exited with N)" once it has, else "". */
    String endedBecause() {
        try {
            if (process.waitFor(1, TimeUnit.SECONDS)) {
                int code = process.exitValue();
                return " (the host process exited with " + code
                        + (code == 137 ? ": SIGKILL, e.g. from its group's cgroup memory limit" : "") + ")";
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return "";
    }

    SocketChannel connect() throws IOException {
        try {
            return SocketChannel.open(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            throw new IOException("cannot reach the VMM host process of " + group + " at " + socket
                    + (process.isAlive() ? "" : " (it has exited with " + process.exitValue() + ")"), e);
        }
    }

    /** Boots a fresh VM in this host process (created, not started). */
    public RemoteMicroVm boot(int memoryMib, Path kernel, Path initrd, String commandLine, boolean functionChannel,
                              boolean rng, Consumer<String> console) throws IOException {
        var hello = Messages.object().put("op", "boot").put("memoryMib", memoryMib)
                .put("kernel", kernel.toAbsolutePath().toString())
                .put("commandLine", commandLine).put("functionChannel", functionChannel).put("rng", rng);
        if (initrd != null) {
            hello.put("initrd", initrd.toAbsolutePath().toString());
        }
        return RemoteMicroVm.open(this, hello, VmState.CREATED, console);
    }

    /** Restores the snapshot in {@code directory} in this host process (paused, not started). */
    public RemoteMicroVm restore(Path directory, Consumer<String> console) throws IOException {
        var hello = Messages.object().put("op", "restore").put("directory", directory.toAbsolutePath().normalize().toString());
        return RemoteMicroVm.open(this, hello, VmState.PAUSED, console);
    }

    /** Stops the process (its VMs end with it) and waits a bounded time for it to go. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    @Override
    public String toString() {
        return "VMM host process of " + group + " (pid " + process.pid() + ")";
    }
}
