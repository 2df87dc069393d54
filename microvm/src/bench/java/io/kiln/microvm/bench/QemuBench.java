package io.kiln.microvm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.microvm.qemu.qmp.QmpClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * QEMU's side, driven directly (not through {@code QemuGuest}) so that nothing but QEMU itself is
 * timed: {@code qemu-system-x86_64 -M microvm} booting the same guest through its PVH entry, and
 * restores from a QMP {@code migrate} snapshot in two flavours:
 * <ul>
 *   <li>{@link RamMode#SHARED_FILE}, as Kiln's QEMU engine does it: the source's RAM is a
 *       {@code memory-backend-file,share=on}, {@code x-ignore-shared} keeps RAM out of the
 *       stream, and the restore maps the RAM file {@code share=off} (MAP_PRIVATE);</li>
 *   <li>{@link RamMode#IN_STREAM}, QEMU's default: every page in the migration stream (zero
 *       pages as a flag each), loaded into fresh anonymous RAM on restore.</li>
 * </ul>
 * Every QEMU child is killed after its measurement and by a shutdown hook.
 */
final class QemuBench {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "bench-qemu-reaper"));
    }

    /** How QEMU runs guest code: {@code -accel} and {@code -cpu}. */
    record Accel(String accel, String cpu) {
        boolean kvm() {
            return accel.equals("kvm");
        }

        @Override
        public String toString() {
            return "-accel " + accel + " -cpu " + cpu;
        }
    }

    enum RamMode { SHARED_FILE, IN_STREAM }

    private final Path qemu;
    private final Path guest;
    private final Path work;
    private final Accel accel;

    QemuBench(Path qemu, Path guest, Path work, Accel accel) {
        this.qemu = qemu;
        this.guest = guest;
        this.work = work;
        this.accel = accel;
    }

    /** The machine as Kiln's QEMU engine configures it, minus its virtio devices. */
    private List<String> argv(int memoryMib, String memoryBackend) {
        List<String> a = new ArrayList<>(List.of(qemu.toString(),
                "-M", "microvm,x-option-roms=off,acpi=off,rtc=off" + (memoryBackend != null ? ",memory-backend=ram" : ""),
                "-accel", accel.accel(), "-cpu", accel.cpu(), "-m", memoryMib + "M", "-smp", "1",
                "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none", "-no-reboot",
                "-serial", "stdio", "-kernel", guest.toString()));
        if (memoryBackend != null) {
            a.addAll(List.of("-object", memoryBackend));
        }
        return a;
    }

    private static String fileBackend(int memoryMib, Path file, boolean share) {
        return "memory-backend-file,id=ram,size=" + memoryMib + "M,mem-path=" + file + ",share=" + (share ? "on" : "off");
    }

    /** The command line of the boot measurement, for the report. */
    String bootCommand(int memoryMib) {
        return String.join(" ", argv(memoryMib, null)).replace(guest.toString(), guest.getFileName().toString());
    }

    /** A running QEMU child whose stdout (the guest's UART) is pumped into a {@link ConsoleProbe}. */
    private static final class Child implements AutoCloseable {
        final Process process;
        final ConsoleProbe console = new ConsoleProbe();
        final long startNanos;
        final Path stderr;

        Child(List<String> argv, Path stderr) throws IOException {
            this.stderr = stderr;
            ProcessBuilder pb = new ProcessBuilder(argv).redirectError(stderr.toFile());
            startNanos = System.nanoTime();
            process = pb.start();
            LIVE.add(process);
            process.getOutputStream().close();
            Thread pump = new Thread(this::pump, "bench-qemu-stdout-" + process.pid());
            pump.setDaemon(true);
            pump.start();
        }

        private void pump() {
            byte[] buffer = new byte[8192];
            try (InputStream in = process.getInputStream()) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    console.write(buffer, 0, n);
                }
            } catch (IOException e) {
                // QEMU is gone.
            }
        }

        long awaitFirstByte() throws InterruptedException, TimeoutException {
            try {
                return console.awaitFirst(TIMEOUT) - startNanos;
            } catch (TimeoutException e) {
                throw new TimeoutException(e.getMessage() + "; QEMU " + (process.isAlive() ? "still running" : "exited " + exitValue())
                        + "; its stderr: " + stderrText());
            }
        }

        private int exitValue() {
            try {
                process.waitFor(1, TimeUnit.SECONDS);
                return process.exitValue();
            } catch (InterruptedException | IllegalThreadStateException e) {
                return -1;
            }
        }

        String stderrText() {
            try {
                return Files.readString(stderr).strip();
            } catch (IOException e) {
                return "(unreadable: " + e.getMessage() + ")";
            }
        }

        QmpClient qmp(Path socket) {
            return QmpClient.connect(socket, process::isAlive, TIMEOUT, event -> { });
        }

        @Override
        public void close() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            LIVE.remove(process);
        }
    }

    /**
     * Tries booting the guest with {@code candidate}; returns null if its first byte arrives
     * within {@code timeout}, else why not (QEMU's stderr).
     */
    String tryBoot(Duration timeout) throws IOException, InterruptedException {
        try (Child c = new Child(argv(128, null), work.resolve("probe.stderr"))) {
            try {
                c.console.awaitFirst(timeout);
                return c.console.firstByte() == 'K' ? null : "first byte was " + c.console.firstByte() + ", not 'K'";
            } catch (TimeoutException e) {
                String err = c.stderrText();
                return (c.process.isAlive() ? "no serial byte within " + timeout.toSeconds() + " s" : "QEMU exited " + c.exitValue())
                        + (err.isEmpty() ? "" : ": " + err.lines().findFirst().orElse(""));
            }
        }
    }

    /** Nanoseconds from starting the QEMU process to the guest's first byte on its stdout. */
    long boot(int memoryMib) throws IOException, InterruptedException, TimeoutException {
        try (Child c = new Child(argv(memoryMib, null), work.resolve("boot.stderr"))) {
            long t = c.awaitFirstByte();
            if (c.console.firstByte() != 'K') {
                throw new IllegalStateException("QEMU guest's first byte was " + c.console.firstByte() + ", expected 'K'");
            }
            return t;
        }
    }

    /**
     * Boots a source guest with its RAM in a shared file, lets it loop, fills its RAM above
     * {@link MicroVmBench#FILL_FROM} with non-zero bytes through that file (as a function's heap
     * would be), and migrates it paused to {@code directory/state}: with {@code x-ignore-shared}
     * for {@link RamMode#SHARED_FILE} (the file is the snapshot's memory), without it for
     * {@link RamMode#IN_STREAM} (every page goes into the stream; the file is deleted).
     */
    void snapshot(int memoryMib, RamMode mode, Path directory) throws IOException, InterruptedException, TimeoutException {
        Files.createDirectories(directory);
        Path socket = directory.resolve("qmp.sock");
        Path memory = directory.resolve("memory");
        List<String> a = argv(memoryMib, fileBackend(memoryMib, memory, true));
        a.addAll(List.of("-qmp", "unix:" + socket + ",server=on,wait=off"));
        try (Child c = new Child(a, directory.resolve("source.stderr"))) {
            c.console.awaitCount(200, TIMEOUT);
            try (QmpClient qmp = c.qmp(socket)) {
                qmp.execute("stop");
                // microvm maps RAM below 3 GiB 1:1 from the backend's start: file offset = guest address.
                fill(memory, MicroVmBench.FILL_FROM, ((long) memoryMib << 20) - MicroVmBench.FILL_FROM);
                qmp.execute("migrate-set-capabilities", capabilities(mode == RamMode.SHARED_FILE));
                qmp.execute("migrate", QmpClient.arguments().put("uri", "exec:cat > " + shellPath(directory.resolve("state"))));
                awaitMigration(qmp, "snapshot");
            }
        }
        Files.deleteIfExists(socket);
        if (mode == RamMode.IN_STREAM) {
            Files.delete(memory);
        }
    }

    private static void fill(Path file, long from, long length) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer block = ByteBuffer.allocateDirect(1 << 20);
            while (block.hasRemaining()) {
                block.put(MicroVmBench.FILL_BYTE);
            }
            for (long done = 0; done < length; ) {
                block.clear().limit((int) Math.min(block.capacity(), length - done));
                done += ch.write(block, from + done);
            }
        }
    }

    /**
     * Nanoseconds from starting {@code qemu -incoming defer} through QMP (connect, capabilities,
     * {@code migrate-incoming exec:cat state}, and {@code cont} the moment QEMU's MIGRATION event
     * says the stream is loaded) to the restored guest's next byte. The snapshot was taken
     * paused, as Kiln takes them, so QEMU does not start the vCPUs by itself; Kiln's engine polls
     * {@code query-migrate} every 2 ms instead of waiting for the event, which is slower.
     */
    long restore(int memoryMib, RamMode mode, Path directory, Path scratch) throws IOException, InterruptedException, TimeoutException {
        Files.createDirectories(scratch);
        Path socket = scratch.resolve("qmp.sock");
        Files.deleteIfExists(socket);
        // The same RAM block ("ram") as the source: the snapshot's file mapped privately, or fresh anonymous memory.
        List<String> a = argv(memoryMib, mode == RamMode.SHARED_FILE ? fileBackend(memoryMib, directory.resolve("memory"), false)
                : "memory-backend-ram,id=ram,size=" + memoryMib + "M");
        a.addAll(List.of("-qmp", "unix:" + socket + ",server=on,wait=off", "-incoming", "defer"));
        CompletableFuture<String> loaded = new CompletableFuture<>();
        try (Child c = new Child(a, scratch.resolve("restore.stderr"))) {
            try (QmpClient qmp = QmpClient.connect(socket, c.process::isAlive, TIMEOUT, e -> {
                // On QMP's reader thread: only hand the news over; commands go from this thread.
                if (e.name().equals("MIGRATION")) {
                    String status = e.data().path("status").asText();
                    if (status.equals("completed") || status.equals("failed") || status.equals("cancelled")) {
                        loaded.complete(status);
                    }
                }
            })) {
                qmp.execute("migrate-set-capabilities", capabilities(mode == RamMode.SHARED_FILE));
                qmp.execute("migrate-incoming", QmpClient.arguments().put("uri", "exec:cat " + shellPath(directory.resolve("state"))));
                String status;
                try {
                    status = loaded.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    throw new IllegalStateException(e.getCause());
                }
                if (!status.equals("completed")) {
                    throw new IllegalStateException("restore migration " + status + "; QEMU's stderr: " + c.stderrText());
                }
                qmp.execute("cont");
                return c.awaitFirstByte();
            }
        }
    }

    /** QEMU runs exec: URIs through /bin/sh. */
    private static String shellPath(Path path) {
        return "'" + path.toString().replace("'", "'\\''") + "'";
    }

    /** {@code events} (so the restore hears MIGRATION completed), plus {@code x-ignore-shared} if asked. */
    private static ObjectNode capabilities(boolean ignoreShared) {
        ObjectNode args = QmpClient.arguments();
        ArrayNode caps = args.putArray("capabilities");
        caps.addObject().put("capability", "events").put("state", true);
        if (ignoreShared) {
            caps.addObject().put("capability", "x-ignore-shared").put("state", true);
        }
        return args;
    }

    private static void awaitMigration(QmpClient qmp, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            JsonNode status = qmp.execute("query-migrate");
            String s = status.path("status").asText();
            if (s.equals("completed")) {
                return;
            }
            if (s.equals("failed") || s.equals("cancelled")) {
                throw new IllegalStateException(what + " migration " + s + ": " + status.path("error-desc").asText(""));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(what + " migration still " + s + " after " + TIMEOUT.toSeconds() + " s");
            }
            Thread.sleep(2);
        }
    }

    /** {@code qemu-system-x86_64 --version}'s first line. */
    static String version(Path qemu) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(qemu.toString(), "--version").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).lines().findFirst().orElse("?");
        p.waitFor();
        return out;
    }
}
