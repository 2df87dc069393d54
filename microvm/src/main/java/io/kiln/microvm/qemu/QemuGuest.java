package io.kiln.microvm.qemu;

import io.kiln.microvm.console.ConsoleLog;
import io.kiln.microvm.files.FileTrees;
import io.kiln.microvm.jail.Jail;
import io.kiln.microvm.jail.JailSpec;
import io.kiln.microvm.jail.VmGroup;
import io.kiln.microvm.process.ChildProcesses;
import io.kiln.microvm.qemu.qmp.QmpClient;
import io.kiln.microvm.qemu.qmp.QmpEvent;
import io.kiln.microvm.qemu.qmp.QmpException;
import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.ReadyFrame;
import io.kiln.microvm.vm.MicroVm;
import io.kiln.microvm.vm.VmExit;
import io.kiln.microvm.vm.VmState;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * One guest running in a {@code qemu-system-x86_64 -M microvm} child process, controlled
 * over QMP: its console goes to a {@link ConsoleLog}, its function channel is a pair of
 * byte streams.
 *
 * <p>A guest is either booted from an image or restored from a {@link QemuSnapshot}; either
 * way it is created paused and runs from {@link #start()}. A guest whose RAM is a shared file
 * ({@link #boot} or {@link #restore} with {@code snapshotable}) can be snapshotted once; the
 * snapshot takes over its RAM file, so afterwards the guest can only be destroyed.
 *
 * <p>Every QEMU child is destroyed when its guest is closed, when starting fails half way,
 * when this JVM exits normally (a shutdown hook) and when it is killed (see
 * {@link ChildProcesses}). Its sockets and temporary files go with it.
 *
 * <p>With a {@link Jail}, QEMU runs in its VM group's jail (kiln-jailer: own namespaces, the
 * group's uid and cgroup, only the guest image, its work directory and the RAM file it maps in
 * view) under QEMU's own seccomp sandbox. The host streams snapshot state in and out over a
 * socket in the work directory, so QEMU never opens a snapshot's files but the RAM it maps.
 */
public final class QemuGuest implements MicroVm {

    /** Guests not yet closed, destroyed by the shutdown hook if the JVM exits first. */
    private static final Set<QemuGuest> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(QemuGuest::destroy), "kiln-qemu-reaper"));
    }

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final QemuVmConfig config;
    private final GuestRam ram;
    private final Process process;
    private final Thread consolePump;
    private final ConsoleLog console;
    private final Path workDir;
    /** The QEMU process: the started process itself, or, jailed, the jailer's one child. */
    private final ProcessHandle vmm;
    /** The VM group whose jail QEMU runs in, or null when it runs unjailed. */
    private final VmGroup jailGroup;
    private final AtomicReference<String> shutdownReason = new AtomicReference<>();
    private final CompletableFuture<VmExit> exit = new CompletableFuture<>();
    private volatile VmState state = VmState.CREATED;
    private volatile boolean destroyed;
    private volatile boolean snapshotTaken;
    private QmpClient qmp;
    private SocketChannel channel;
    private InputStream channelIn;
    private OutputStream channelOut;

    private QemuGuest(QemuVmConfig config, GuestRam ram, Process process, ProcessHandle vmm, VmGroup jailGroup,
                      Thread consolePump, ConsoleLog console, Path workDir) {
        this.jailGroup = jailGroup;
        this.config = config;
        this.ram = ram;
        this.process = process;
        this.vmm = vmm;
        this.consolePump = consolePump;
        this.console = console;
        this.workDir = workDir;
    }

    /**
     * Boots a guest from its image. With {@code snapshotable}, its RAM is a file so that it
     * can later be snapshotted; otherwise anonymous memory.
     */
    public static QemuGuest boot(QemuVmConfig config, boolean snapshotable, Consumer<String> consoleSink) {
        return boot(config, snapshotable, consoleSink, Optional.empty());
    }

    /** {@link #boot(QemuVmConfig, boolean, Consumer)} with QEMU in {@code jail}. */
    public static QemuGuest boot(QemuVmConfig config, boolean snapshotable, Consumer<String> consoleSink, Jail jail) {
        return boot(config, snapshotable, consoleSink, Optional.of(jail));
    }

    private static QemuGuest boot(QemuVmConfig config, boolean snapshotable, Consumer<String> consoleSink,
                                  Optional<Jail> jail) {
        Path workDir = createWorkDir();
        GuestRam ram = snapshotable ? new GuestRam.SharedFile(workDir.resolve("memory")) : new GuestRam.Anonymous();
        return start(config, ram, workDir, null, consoleSink, jail);
    }

    /**
     * Restores a guest from a snapshot, paused until {@link #start()}. The snapshot's memory is mapped
     * privately: nothing is read up front and the snapshot never changes. With
     * {@code snapshotable} the memory is copied (sparsely) instead, so that the restored guest
     * can itself be snapshotted, as a function snapshot is taken from a restored base.
     */
    public static QemuGuest restore(Path snapshotDirectory, Accelerator accelerator, boolean snapshotable,
                                    Consumer<String> consoleSink) {
        return restore(snapshotDirectory, accelerator, snapshotable, consoleSink, Optional.empty());
    }

    /**
     * {@link #restore(Path, Accelerator, boolean, Consumer)} with QEMU in {@code jail}. A private
     * restore maps the snapshot's memory file, which QEMU opens read-write (and maps private): the
     * file is handed to the group's uid if another owns it, and is the one file of the snapshot
     * the jail shows.
     */
    public static QemuGuest restore(Path snapshotDirectory, Accelerator accelerator, boolean snapshotable,
                                    Consumer<String> consoleSink, Jail jail) {
        return restore(snapshotDirectory, accelerator, snapshotable, consoleSink, Optional.of(jail));
    }

    private static QemuGuest restore(Path snapshotDirectory, Accelerator accelerator, boolean snapshotable,
                                     Consumer<String> consoleSink, Optional<Jail> jail) {
        QemuSnapshot snapshot = QemuSnapshot.load(snapshotDirectory);
        QemuVmConfig config = snapshot.config(accelerator);
        Path workDir = createWorkDir();
        GuestRam ram;
        if (snapshotable) {
            Path copy = workDir.resolve("memory");
            try {
                SparseFiles.copy(snapshot.memory(), copy);
            } catch (IOException e) {
                FileTrees.deleteQuietly(workDir);
                throw new QemuException("copying snapshot memory " + snapshot.memory() + " failed: " + e.getMessage(), e);
            }
            ram = new GuestRam.SharedFile(copy);
        } else {
            ram = new GuestRam.PrivateFile(snapshot.memory());
        }
        return start(config, ram, workDir, snapshot, consoleSink, jail);
    }

    private static QemuGuest start(QemuVmConfig config, GuestRam ram, Path workDir, QemuSnapshot from,
                                   Consumer<String> consoleSink, Optional<Jail> jail) {
        Path qemu = QemuBinary.locate();
        Path channelSocket = workDir.resolve("channel.sock");
        Path qmpSocket = workDir.resolve("qmp.sock");
        QemuMicroVmCommand command = new QemuMicroVmCommand(qemu, config, ram, channelSocket, qmpSocket, from != null);
        ConsoleLog console = new ConsoleLog(consoleSink, 200);
        QemuGuest guest = null;
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(channelSocket));
            server.configureBlocking(false);
            List<String> argv = command.argv();
            if (jail.isPresent()) {
                argv = jailed(jail.get(), qemu, config, ram, workDir, channelSocket, argv);
            }
            Process process = ChildProcesses.start(new ProcessBuilder(argv).redirectErrorStream(true));
            process.getOutputStream().close();
            Thread pump = pumpConsole(process, console);
            ProcessHandle vmm = process.toHandle();
            if (jail.isPresent()) {
                try {
                    vmm = jailedChild(process);
                } catch (QemuException e) {
                    process.destroyForcibly();
                    pump.join(1000); // the jailer's one line saying why
                    throw new QemuException(e.getMessage() + ": " + console.tailText().strip(), e);
                }
            }
            guest = new QemuGuest(config, ram, process, vmm, jail.map(Jail::group).orElse(null), pump, console, workDir);
            LIVE.add(guest);
            QemuGuest started = guest;
            process.onExit().thenRun(started::onProcessExit);
            guest.connect(server);
            Files.deleteIfExists(channelSocket);
            if (from != null) {
                guest.loadState(from);
            }
            return guest;
        } catch (IOException | RuntimeException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            String output = guest == null ? "" : "; QEMU's output:\n" + guest.settledConsole();
            if (guest != null) {
                guest.destroy();
            } else {
                FileTrees.deleteQuietly(workDir);
            }
            String what = from == null ? "booting " + config.image().id() : "restoring " + from.directory();
            throw new QemuException(what + " failed: " + e.getMessage() + output, e);
        }
    }

    /** The seccomp sandbox of a jailed QEMU: no obsolete calls, no setuid, no fork or exec, no scheduling changes. */
    static final List<String> SANDBOX = List.of("-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");

    /**
     * {@code argv} (QEMU's command line) wrapped in the jail of {@code jail}'s group: it sees
     * QEMU (under /usr), the guest image read-only, its work directory read-write (sockets, a
     * snapshotable RAM file) and, restoring privately, the snapshot's memory file. The work
     * directory, the channel socket and that RAM file are handed to the group's uid.
     */
    private static List<String> jailed(Jail jail, Path qemu, QemuVmConfig config, GuestRam ram, Path workDir,
                                       Path channelSocket, List<String> argv) throws IOException {
        VmGroup group = jail.group();
        List<Path> readOnly = new ArrayList<>(List.of(config.image().directory()));
        Path qemuReal = qemu.toRealPath();
        if (!qemuReal.startsWith("/usr")) {
            readOnly.add(qemuReal); // KILN_QEMU outside /usr (its libraries must be under /usr)
        }
        List<Path> readWrite = new ArrayList<>(List.of(workDir));
        group.own(workDir);
        group.own(channelSocket);
        if (ram instanceof GuestRam.SharedFile shared && Files.exists(shared.file())) {
            group.own(shared.file()); // a restored base's memory, copied by this JVM
        } else if (ram instanceof GuestRam.PrivateFile file) {
            if (!Integer.valueOf(group.uid()).equals(Files.getAttribute(file.file(), "unix:uid"))) {
                group.own(file.file()); // a snapshot from before jails, or whose uid file was lost
            }
            readWrite.add(file.file());
        }
        JailSpec spec = group.spec(readOnly, readWrite, config.accelerator() == Accelerator.KVM);
        List<String> sandboxed = new ArrayList<>(argv);
        sandboxed.addAll(SANDBOX);
        return jail.jailer().wrap(spec, sandboxed);
    }

    /** QEMU, the jailer's only child; it exists once the jailer has forked, which happens at once. */
    private static ProcessHandle jailedChild(Process jailer) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            Optional<ProcessHandle> child = jailer.toHandle().children().findFirst();
            if (child.isPresent()) {
                return child.get();
            }
            if (!jailer.isAlive()) {
                throw new QemuException("the jailer exited with status " + jailer.exitValue() + " before starting QEMU");
            }
            if (System.nanoTime() > deadline) {
                throw new QemuException("the jailer did not start QEMU within " + START_TIMEOUT.toSeconds() + " s");
            }
            sleepMillis(1);
        }
    }

    private void connect(ServerSocketChannel server) throws IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        qmp = QmpClient.connect(workDir.resolve("qmp.sock"), process::isAlive, START_TIMEOUT, this::onEvent);
        // QEMU connects the channel while starting, before the QMP socket answers.
        SocketChannel accepted;
        while ((accepted = server.accept()) == null) {
            if (!process.isAlive()) {
                throw new QemuException("QEMU exited with status " + exitValue() + " before connecting the function channel");
            }
            if (System.nanoTime() > deadline) {
                throw new QemuException("QEMU did not connect the function channel within " + START_TIMEOUT.toSeconds() + " s");
            }
            sleepMillis(2);
        }
        accepted.configureBlocking(true);
        channel = accepted;
        channelIn = ChannelStreams.input(accepted);
        channelOut = ChannelStreams.output(accepted);
    }

    private void onEvent(QmpEvent event) {
        if (event.name().equals("SHUTDOWN")) {
            // guest-reset, guest-panic, guest-shutdown, host-qmp-quit, host-signal, ...
            shutdownReason.compareAndSet(null, event.data().path("reason").asText("unknown"));
        }
    }

    /** Loads a snapshot's device state into a QEMU started with -incoming, then lets the guest run. */
    private void loadState(QemuSnapshot snapshot) throws IOException {
        qmp.execute("migrate-set-capabilities", ignoreSharedRam());
        // QEMU listens on the socket once migrate-incoming has answered.
        Path socket = workDir.resolve("migrate.sock");
        qmp.execute("migrate-incoming", QmpClient.arguments().put("uri", "unix:" + socket));
        MigrationSocket.send(snapshot.state(), socket);
        awaitMigration("restore");
    }

    private void onProcessExit() {
        console.flush();
        if (destroyed) {
            markDestroyed();
            return;
        }
        if (snapshotTaken) {
            // The snapshot ended QEMU on purpose; the guest stays PAUSED until destroy().
            return;
        }
        state = VmState.STOPPED;
        String reason = shutdownReason.get();
        if ("guest-reset".equals(reason)) {
            exit.complete(new VmExit(VmExit.Reason.GUEST_RESET, "the guest reset (its agent exited, or the kernel panicked)"));
        } else if ("guest-shutdown".equals(reason) || "guest-panic".equals(reason)) {
            exit.complete(new VmExit(VmExit.Reason.GUEST_SHUTDOWN, reason));
        } else {
            exit.complete(new VmExit(VmExit.Reason.ERROR, "QEMU exited (" + exitDescription() + ")"));
        }
    }

    /**
     * Pauses the guest and writes it to {@code directory} as a snapshot. Only device state is
     * written: the guest's RAM file becomes the snapshot's memory, and the QEMU process ends,
     * so the guest stays paused and only {@link #destroy()} is left to call.
     */
    @Override
    public synchronized void snapshot(Path directory) throws IOException {
        if (!(ram instanceof GuestRam.SharedFile shared)) {
            throw new IllegalStateException("this guest was not started snapshotable; its RAM is " + ram);
        }
        requireUsable("snapshot");
        Files.createDirectories(directory);
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
        if (Files.exists(directory.resolve("snapshot.json"))) {
            throw new IOException("a snapshot already exists in " + directory);
        }
        try {
            qmp.execute("stop");
            state = VmState.PAUSED;
            snapshotTaken = true;
            qmp.execute("migrate-set-capabilities", ignoreSharedRam());
            Path socket = workDir.resolve("migrate.sock");
            try (MigrationSocket.Receiver state = MigrationSocket.receive(socket, directory.resolve("state"),
                    jailGroup)) {
                qmp.execute("migrate", QmpClient.arguments().put("uri", "unix:" + socket));
                awaitMigration("snapshot");
                state.await(START_TIMEOUT);
            }
            String qemuVersion = qmp.qemuVersion();
            // From here the RAM file is the snapshot's memory, yet QEMU still maps it shared.
            // A clean quit, or our end of the channel closing, would make virtio-serial post a
            // "host disconnected" message into guest RAM, and every clone would wake up to a
            // closed channel. SIGKILL ends QEMU before any device can write another byte: QEMU
            // itself, not a jailer between, whose death would only signal QEMU in turn. The
            // started process ends once QEMU has (a jailer waits for its child).
            vmm.destroyForcibly();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new IOException("QEMU " + vmm.pid() + " did not die after SIGKILL");
            }
            moveMemory(shared.file(), directory.resolve("memory"));
            // The group's own: its uid owns the memory (QEMU made it), root the rest; nobody else reads either.
            Files.setPosixFilePermissions(directory.resolve("memory"), PosixFilePermissions.fromString("rw-------"));
            Files.setPosixFilePermissions(directory.resolve("state"), PosixFilePermissions.fromString("rw-------"));
            QemuSnapshot.Info info = new QemuSnapshot.Info(QemuSnapshot.FORMAT, "qemu", qemuVersion, config.image().id(),
                    config.image().directory(), config.accelerator().name(), config.memoryMib(), config.vcpus(),
                    config.kernelCommandLine(), Instant.now().toString());
            QemuSnapshot.write(directory, info);
        } catch (QemuException | QmpException e) {
            throw new IOException("snapshot to " + directory + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while taking a snapshot", e);
        }
    }

    /** Renames the RAM file into the snapshot; across file systems, copies it sparsely. */
    private static void moveMemory(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            SparseFiles.copy(from, to);
            Files.delete(from);
        }
    }

    private static ObjectNode ignoreSharedRam() {
        // x-ignore-shared leaves file-backed shared RAM out of the migration stream: the RAM
        // file already holds it. That is what makes a snapshot a few KiB of device state and
        // a restore independent of the guest's memory size.
        var args = QmpClient.arguments();
        args.putArray("capabilities").addObject().put("capability", "x-ignore-shared").put("state", true);
        return args;
    }

    private void awaitMigration(String what) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            JsonNode status = qmp.execute("query-migrate");
            String s = status.path("status").asText();
            switch (s) {
                case "completed":
                    return;
                case "failed":
                case "cancelled":
                    throw new QemuException(what + " migration " + s + ": " + status.path("error-desc").asText("no reason given"));
                default:
                    if (System.nanoTime() > deadline) {
                        throw new QemuException(what + " migration still '" + s + "' after " + START_TIMEOUT.toSeconds() + " s");
                    }
                    sleepMillis(2);
            }
        }
    }

    /** Lets the guest's vCPUs run: the first boot, or a restored guest continuing. */
    @Override
    public synchronized void start() {
        requireUsable("start");
        if (state != VmState.CREATED) {
            throw new IllegalStateException("start() on a " + state + " guest; use resume()");
        }
        qmp.execute("cont");
        state = VmState.RUNNING;
    }

    /** Stops the guest's vCPUs; its memory and devices stay as they are. */
    @Override
    public synchronized void pause() {
        requireUsable("pause");
        qmp.execute("stop");
        state = VmState.PAUSED;
    }

    /** Lets a paused guest run again. */
    @Override
    public synchronized void resume() {
        if (snapshotTaken) {
            throw new IllegalStateException("this guest's memory now belongs to its snapshot; restore the snapshot instead");
        }
        requireUsable("resume");
        qmp.execute("cont");
        state = VmState.RUNNING;
    }

    private void requireUsable(String operation) {
        if (destroyed || !process.isAlive()) {
            throw new IllegalStateException(operation + "() on a guest that has stopped (" + state + ")");
        }
    }

    @Override
    public VmState state() {
        return state;
    }

    @Override
    public CompletableFuture<VmExit> exit() {
        return exit;
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
                    destroy();
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
                destroy();
                throw new QemuException("the guest's first frame was " + frame.type() + ", not READY; console:\n"
                        + settledConsole());
            }
            if (!process.isAlive()) {
                throw new QemuException("the guest stopped (" + exitDescription() + ") before reporting READY; console:\n"
                        + settledConsole());
            }
            Throwable cause = first.handle((f, t) -> t).get();
            destroy();
            throw new QemuException("reading the guest's READY failed: " + cause + "; console:\n" + settledConsole(), cause);
        } catch (ExecutionException e) {
            throw new IllegalStateException("unreachable: the failure was handled above", e);
        } catch (InterruptedException e) {
            destroy();
            Thread.currentThread().interrupt();
            throw new QemuException("interrupted while waiting for the guest's READY");
        }
    }

    /** The console's tail once QEMU's last output has been read (bounded wait). */
    private String settledConsole() {
        try {
            consolePump.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return console.tailText();
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

    @Override
    public InputStream fromGuest() {
        return channelIn;
    }

    @Override
    public OutputStream toGuest() {
        return channelOut;
    }

    public ConsoleLog console() {
        return console;
    }

    public QemuVmConfig config() {
        return config;
    }

    /** The started process: QEMU, or, jailed, the jailer whose child QEMU is. */
    public long pid() {
        return process.pid();
    }

    /** QEMU's own process (jailed: the jailer's child, pid 1 of the jail's PID namespace). */
    public long vmmPid() {
        return vmm.pid();
    }

    /** Where this guest's sockets and private files live; removed when it is closed. */
    Path workDirectory() {
        return workDir;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    private String exitDescription() {
        String reason = shutdownReason.get();
        return reason != null ? reason : "QEMU exit status " + exitValue();
    }

    private int exitValue() {
        try {
            process.waitFor(1, TimeUnit.SECONDS);
            return process.exitValue();
        } catch (InterruptedException | IllegalThreadStateException e) {
            return -1;
        }
    }

    private void markDestroyed() {
        state = VmState.DESTROYED;
        exit.complete(new VmExit(VmExit.Reason.DESTROYED, "destroyed by the host"));
    }

    /** Destroys the guest: QEMU is stopped and reaped, sockets closed, temp files removed. Idempotent. */
    @Override
    public void destroy() {
        destroyed = true;
        LIVE.remove(this);
        if (qmp != null && process.isAlive()) {
            try {
                qmp.execute("quit");
            } catch (QmpException ignored) {
                // Killed below.
            }
        }
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                // QEMU first: a killed jailer would only pass the kill on (its child's PDEATHSIG).
                vmm.destroyForcibly();
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            vmm.destroyForcibly();
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        if (qmp != null) {
            qmp.close();
        }
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Closing a socket whose peer is dead; nothing to recover.
            }
        }
        FileTrees.deleteQuietly(workDir);
        if (!process.isAlive()) {
            markDestroyed();
        }
    }

    private static final String WORK_DIR_PREFIX = "kiln-qemu-";
    private static final String OWNER_FILE = "owner.pid";
    private static volatile boolean swept;

    private static Path createWorkDir() {
        if (!swept) {
            swept = true;
            sweepStaleWorkDirs(tempRoot());
        }
        try {
            // Unix socket paths are limited to 107 bytes, so stay under /tmp, not a deep data dir.
            Path dir = Files.createTempDirectory(tempRoot(), WORK_DIR_PREFIX);
            Files.writeString(dir.resolve(OWNER_FILE), Long.toString(ProcessHandle.current().pid()));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for QEMU", e);
        }
    }

    private static Path tempRoot() {
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    /**
     * Removes the work directories of host JVMs that died without cleaning up (killed, or
     * crashed): their QEMU children died with them, their sockets and memory files did not.
     * A directory whose owner still runs, or whose owner cannot be read, is left alone.
     */
    static void sweepStaleWorkDirs(Path root) {
        try (Stream<Path> dirs = Files.list(root)) {
            dirs.filter(d -> d.getFileName().toString().startsWith(WORK_DIR_PREFIX))
                    .filter(d -> ownerIsGone(d.resolve(OWNER_FILE)))
                    .forEach(FileTrees::deleteQuietly);
        } catch (IOException ignored) {
            // Nothing to sweep.
        }
    }

    private static boolean ownerIsGone(Path ownerFile) {
        try {
            long pid = Long.parseLong(Files.readString(ownerFile).strip());
            return ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }

    private static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QemuException("interrupted");
        }
    }
}
