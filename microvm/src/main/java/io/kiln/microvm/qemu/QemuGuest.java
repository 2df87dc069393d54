package io.kiln.microvm.qemu;

import io.kiln.microvm.console.ConsoleLog;
import io.kiln.microvm.image.GuestImage;
import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.ReadyFrame;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * One guest running in a {@code qemu-system-x86_64 -M microvm} child process: its console
 * goes to a {@link ConsoleLog}, its function channel is a pair of byte streams.
 *
 * <p>Every QEMU child is destroyed when its guest is closed, when starting fails half way,
 * and when this JVM exits normally (a shutdown hook). Its socket and temporary directory go
 * with it.
 */
public final class QemuGuest implements AutoCloseable {

    /** Guests not yet closed, destroyed by the shutdown hook if the JVM exits first. */
    private static final Set<QemuGuest> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(QemuGuest::close), "kiln-qemu-reaper"));
    }

    private final Process process;
    private final SocketChannel channel;
    private final InputStream channelIn;
    private final OutputStream channelOut;
    private final ConsoleLog console;
    private final Thread consolePump;
    private final Path workDir;

    private QemuGuest(Process process, SocketChannel channel, ConsoleLog console, Thread consolePump, Path workDir) {
        this.process = process;
        this.channel = channel;
        this.channelIn = ChannelStreams.input(channel);
        this.channelOut = ChannelStreams.output(channel);
        this.console = console;
        this.consolePump = consolePump;
        this.workDir = workDir;
    }

    /** Boots {@code image} with the given shape; returns once QEMU has connected the channel. */
    public static QemuGuest start(GuestImage image, Accelerator accelerator, int memoryMib, int vcpus,
                                  String extraKernelArgs, Consumer<String> consoleSink) {
        Path qemu = QemuBinary.locate();
        Path workDir = createWorkDir();
        Path socket = workDir.resolve("channel.sock");
        QemuMicroVmCommand command = new QemuMicroVmCommand(qemu, image, accelerator, memoryMib, vcpus, socket, extraKernelArgs);
        ConsoleLog console = new ConsoleLog(consoleSink, 200);
        Process process = null;
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            server.configureBlocking(false);
            process = new ProcessBuilder(command.argv()).redirectErrorStream(true).start();
            process.getOutputStream().close();
            Thread pump = pumpConsole(process, console);
            SocketChannel channel = acceptWhileAlive(server, process, Duration.ofSeconds(30), console);
            channel.configureBlocking(true);
            Files.deleteIfExists(socket);
            QemuGuest guest = new QemuGuest(process, channel, console, pump, workDir);
            LIVE.add(guest);
            return guest;
        } catch (IOException | RuntimeException e) {
            if (process != null) {
                process.destroyForcibly();
            }
            deleteRecursively(workDir);
            if (e instanceof QemuException qe) {
                throw qe;
            }
            throw new QemuException("could not start " + String.join(" ", command.argv()) + ": " + e.getMessage(), e);
        }
    }

    private static SocketChannel acceptWhileAlive(ServerSocketChannel server, Process process, Duration timeout,
                                                  ConsoleLog console) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            SocketChannel accepted = server.accept();
            if (accepted != null) {
                return accepted;
            }
            if (!process.isAlive()) {
                waitQuietly(process);
                console.flush();
                throw new QemuException("QEMU exited with status " + process.exitValue()
                        + " before connecting the function channel; its output:\n" + console.tailText());
            }
            if (System.nanoTime() > deadline) {
                throw new QemuException("QEMU did not connect the function channel within " + timeout.toSeconds()
                        + " s; its output:\n" + console.tailText());
            }
            sleep(5);
        }
    }

    /** QEMU's stdout (the guest's serial console) and stderr (QEMU's own errors), line by line. */
    private static Thread pumpConsole(Process process, ConsoleLog console) {
        Thread pump = new Thread(() -> {
            byte[] buffer = new byte[8192];
            try (InputStream in = process.getInputStream()) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    console.accept(buffer, 0, n);
                }
            } catch (IOException e) {
                // The process is gone; what it printed is already in the log.
            } finally {
                console.flush();
            }
        }, "kiln-qemu-console-" + process.pid());
        pump.setDaemon(true);
        pump.start();
        return pump;
    }

    /**
     * Waits for the agent's first frame, which must be READY. Bounded: a guest that crashes,
     * hangs, or says anything else first is destroyed, and the exception carries the tail of
     * its console.
     */
    public ReadyFrame awaitReady(Duration timeout) {
        CompletableFuture<Frame> first = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                first.complete(new FrameCodec().read(channelIn));
            } catch (Throwable t) {
                first.completeExceptionally(t);
            }
        }, "kiln-qemu-ready-" + process.pid());
        reader.setDaemon(true);
        reader.start();
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (!first.isDone() && process.isAlive()) {
                if (System.nanoTime() > deadline) {
                    close();
                    throw new QemuException("the guest did not report READY within " + timeout.toSeconds()
                            + " s; console:\n" + console.tailText());
                }
                Thread.sleep(10);
            }
            // A guest that stops closes the channel too; give both a moment to settle, so a
            // READY written just before the end still counts and a crash is called a crash.
            reader.join(500);
            if (!first.isDone() || first.isCompletedExceptionally()) {
                process.waitFor(2, TimeUnit.SECONDS);
            }
            if (first.isDone() && !first.isCompletedExceptionally()) {
                Frame frame = first.get();
                if (frame instanceof ReadyFrame ready) {
                    return ready;
                }
                close();
                throw new QemuException("the guest's first frame was " + frame.type() + ", not READY; console:\n"
                        + settledConsole());
            }
            if (!process.isAlive()) {
                throw new QemuException("the guest stopped (QEMU exit status " + process.exitValue()
                        + ") before reporting READY; console:\n" + settledConsole());
            }
            Throwable cause = first.handle((f, t) -> t).get();
            close();
            throw new QemuException("reading the guest's READY failed: " + cause + "; console:\n"
                    + settledConsole(), cause);
        } catch (ExecutionException e) {
            throw new IllegalStateException("unreachable: the failure was handled", e);
        } catch (InterruptedException e) {
            close();
            Thread.currentThread().interrupt();
            throw new QemuException("interrupted while waiting for the guest's READY");
        }
    }

    /** The console's tail once QEMU's last output has been read (bounded wait). */
    private String settledConsole() throws InterruptedException {
        consolePump.join(1000);
        return console.tailText();
    }

    /** Bytes from the guest's function channel. */
    public InputStream channelIn() {
        return channelIn;
    }

    /** Bytes to the guest's function channel. */
    public OutputStream channelOut() {
        return channelOut;
    }

    public ConsoleLog console() {
        return console;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Destroys the guest: QEMU is killed and reaped, the channel closed, temp files removed. Idempotent. */
    @Override
    public void close() {
        LIVE.remove(this);
        process.destroy();
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing a socket whose peer is dead; nothing to recover.
        }
        deleteRecursively(workDir);
    }

    private static Path createWorkDir() {
        try {
            // Unix socket paths are limited to 107 bytes, so stay under /tmp, not a deep data dir.
            return Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "kiln-qemu-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for QEMU", e);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // Already gone.
        }
    }

    private static void waitQuietly(Process process) {
        try {
            process.waitFor(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QemuException("interrupted while starting QEMU");
        }
    }
}
