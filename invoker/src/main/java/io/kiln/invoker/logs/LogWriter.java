package io.kiln.invoker.logs;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The logs on disk, {@code <root>/<function>/<first seq>.jsonl}. One thread owns every file:
 * callers only queue lines ({@link #offer}, never blocking), and the thread appends them,
 * rolls segments, applies the {@link LogRetention} and deletes a cleared function's directory,
 * in the order they were queued.
 *
 * <p>The queue holds at most {@code queueLines} lines; a line that finds it full is not written
 * (it is still in memory) and is counted per function; when the writer has caught up it has the
 * book log one {@code kiln} line saying how many were dropped. Files are flushed when the queue
 * is empty and at least every 200 ms under load, never fsynced: a kill -9 loses the lines still
 * queued and at most the last 200 ms of written ones; a machine crash, whatever the OS had not
 * written back.
 *
 * <p>Each run starts new segments (named by the first new seq), so a line torn by a kill stays
 * at the end of an old segment, where reading skips it.
 */
final class LogWriter {

    private static final System.Logger LOG = System.getLogger(LogWriter.class.getName());

    static final long FLUSH_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    static final Duration RETENTION_EVERY = Duration.ofHours(1);
    /** A function without lines for a minute gives its file handle back. */
    static final long IDLE_CLOSE_NANOS = TimeUnit.MINUTES.toNanos(1);
    public static final int DEFAULT_QUEUE_LINES = 10_000;

    /** Told, on the writer's thread, how many lines of a function found the queue full. */
    interface DropReport {
        void dropped(String function, long version, long lines);
    }

    private sealed interface Op permits Append, Clear, Stop {
    }

    private record Append(LogLine line) implements Op {
    }

    private record Clear(String function) implements Op {
    }

    private record Stop() implements Op {
    }

    /** Lines of one function dropped since the last report: counted by callers, taken by the writer. */
    private static final class Drops {
        final AtomicLong lines = new AtomicLong();
        volatile long version;
    }

    /** A segment file; writer thread only. */
    private static final class Segment {
        final Path path;
        final long firstSeq;
        long bytes;
        /** The time of its newest line, which is its age. */
        long lastEpochMs;

        Segment(Path path, long firstSeq, long bytes, long lastEpochMs) {
            this.path = path;
            this.firstSeq = firstSeq;
            this.bytes = bytes;
            this.lastEpochMs = lastEpochMs;
        }
    }

    /** One function's directory; writer thread only. */
    private static final class FunctionLog {
        final Path dir;
        /** Oldest first. */
        final ArrayDeque<Segment> closed = new ArrayDeque<>();
        /** The segment new lines go to; null until the first line of this run. */
        Segment current;
        /** Open on {@code current}; null when no line came for a while. */
        OutputStream out;
        boolean dirty;
        /** Writing failed (disk full, permissions): said once, not once a line. */
        boolean failing;
        long lastSeq;
        long lastWriteNanos;

        FunctionLog(Path dir) {
            this.dir = dir;
        }
    }

    /** A function's directory as found at start: its last seq and its newest lines, oldest first. */
    record Loaded(long lastSeq, List<LogLine> tail) {
    }

    private final Path root;
    private final LogRetention retention;
    private final Clock clock;
    private final int queueLines;
    private final LinkedBlockingQueue<Op> queue = new LinkedBlockingQueue<>();
    /** Lines in {@link #queue} (clears and the stop are not counted against the bound). */
    private final AtomicInteger queued = new AtomicInteger();
    private final Map<String, Drops> drops = new ConcurrentHashMap<>();
    private final Map<String, FunctionLog> logs = new HashMap<>();
    private volatile boolean stopping;
    private Thread thread;
    private DropReport report;
    private long nextRetentionMs = Long.MIN_VALUE;

    LogWriter(Path root, LogRetention retention, Clock clock, int queueLines) throws IOException {
        if (queueLines < 1) {
            throw new IllegalArgumentException("queueLines must be positive, got " + queueLines);
        }
        this.root = Files.createDirectories(root);
        this.retention = retention;
        this.clock = clock;
        this.queueLines = queueLines;
    }

    Path root() {
        return root;
    }

    /**
     * Reads every function's directory: the last seq, and the newest {@code tail} lines. Runs
     * before {@link #start}, on the caller's thread.
     */
    Map<String, Loaded> load(int tail) throws IOException {
        Map<String, Loaded> out = new HashMap<>();
        long cutoff = clock.millis() - retention.maxAge().toMillis();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(root, Files::isDirectory)) {
            for (Path dir : s) {
                String function = dir.getFileName().toString();
                FunctionLog f = new FunctionLog(dir);
                ArrayDeque<LogLine> lines = new ArrayDeque<>();
                long lastSeq = 0;
                boolean aged = false;
                List<Segments.File> files = Segments.list(dir);
                for (int i = files.size() - 1; i >= 0; i--) {
                    Segments.File file = files.get(i);
                    lastSeq = Math.max(lastSeq, file.firstSeq() - 1);
                    LogLine newest;
                    // Lines older than the age cap are not reloaded: the retention is deleting them.
                    if (lines.size() < tail && !aged) {
                        List<LogLine> read = Segments.read(function, file.path());
                        for (int j = read.size() - 1; j >= 0 && lines.size() < tail; j--) {
                            if (read.get(j).epochMs() >= cutoff) {
                                lines.addFirst(read.get(j));
                            }
                        }
                        newest = read.isEmpty() ? null : read.get(read.size() - 1);
                    } else {
                        newest = Segments.last(function, file.path());
                    }
                    if (newest != null) {
                        lastSeq = Math.max(lastSeq, newest.seq());
                        aged |= newest.epochMs() < cutoff; // and so are the older segments
                    }
                    long time = newest != null ? newest.epochMs() : Files.getLastModifiedTime(file.path()).toMillis();
                    f.closed.addFirst(new Segment(file.path(), file.firstSeq(), Files.size(file.path()), time));
                }
                f.lastSeq = lastSeq;
                logs.put(function, f);
                out.put(function, new Loaded(lastSeq, List.copyOf(lines)));
            }
        }
        return out;
    }

    /** Starts the writer thread; {@code report} hears of dropped lines. */
    void start(DropReport report) {
        this.report = report;
        thread = new Thread(this::run, "kiln-log-writer");
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues a line; false (and counted) if the queue is full, false (not counted) once stopping. */
    boolean offer(LogLine line) {
        if (stopping) {
            return false;
        }
        if (queued.incrementAndGet() > queueLines) {
            queued.decrementAndGet();
            Drops d = drops.computeIfAbsent(line.function(), k -> new Drops());
            d.version = line.version();
            d.lines.incrementAndGet();
            return false;
        }
        queue.add(new Append(line));
        return true;
    }

    /** Deletes the function's directory once the lines queued before are written. */
    void clear(String function) {
        drops.remove(function);
        if (!stopping) {
            queue.add(new Clear(function));
        }
    }

    /** Writes what is queued, closes the files and stops the thread (waits up to 5 s). */
    void close() {
        stopping = true;
        queue.add(new Stop());
        if (thread == null) {
            return;
        }
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.log(System.Logger.Level.WARNING, "the log writer did not finish within 5 s");
        }
    }

    private void run() {
        long lastFlush = System.nanoTime();
        while (true) {
            Op op;
            try {
                op = queue.poll(FLUSH_NANOS, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                op = new Stop();
            }
            if (op instanceof Stop) {
                flushAll();
                for (FunctionLog f : logs.values()) {
                    closeOut(f);
                }
                return;
            }
            try {
                if (op instanceof Append a) {
                    queued.decrementAndGet();
                    append(a.line());
                } else if (op instanceof Clear c) {
                    clearNow(c.function());
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "log writer: " + e, e);
            }
            boolean caughtUp = queue.isEmpty();
            long now = System.nanoTime();
            if (caughtUp || now - lastFlush >= FLUSH_NANOS) {
                flushAll();
                lastFlush = now;
                housekeeping(now);
            }
            if (caughtUp) {
                reportDrops();
            }
        }
    }

    private void append(LogLine line) {
        FunctionLog f = logs.computeIfAbsent(line.function(), k -> new FunctionLog(root.resolve(k)));
        byte[] bytes = LogCodec.encode(line);
        try {
            if (f.current != null && f.current.bytes > 0 && f.current.bytes + bytes.length > retention.segmentBytes()) {
                closeOut(f);
                f.closed.addLast(f.current);
                f.current = null;
                retain(f);
            }
            if (f.current == null) {
                Segment last = f.closed.peekLast();
                if (last != null && last.firstSeq == line.seq()) {
                    // The segment a torn run or the retention left for this seq: go on with it.
                    f.closed.removeLast();
                    f.current = last;
                } else {
                    f.current = new Segment(f.dir.resolve(Segments.name(line.seq())), line.seq(), 0, 0);
                }
            }
            if (f.out == null) {
                f.out = open(f.current);
            }
            f.out.write(bytes);
            f.current.bytes += bytes.length;
            f.current.lastEpochMs = line.epochMs();
            f.lastSeq = line.seq();
            f.dirty = true;
            f.lastWriteNanos = System.nanoTime();
            if (f.failing) {
                f.failing = false;
                LOG.log(System.Logger.Level.INFO, "writing the log of " + line.function() + " again");
            }
        } catch (IOException | UncheckedIOException e) {
            if (!f.failing) {
                f.failing = true;
                LOG.log(System.Logger.Level.WARNING, "cannot write the log of " + line.function() + " in " + f.dir
                        + " (its lines stay in memory only until it can): " + e);
            }
            closeOut(f);
            if (f.current != null) {
                f.closed.addLast(f.current); // the next line begins a new segment
                f.current = null;
            }
        }
    }

    /** Opens a segment for appending; a file that does not end a line gets a newline first. */
    private static OutputStream open(Segment s) throws IOException {
        Files.createDirectories(s.path.getParent());
        boolean torn = false;
        if (Files.exists(s.path) && Files.size(s.path) > 0) {
            try (RandomAccessFile r = new RandomAccessFile(s.path.toFile(), "r")) {
                r.seek(r.length() - 1);
                torn = r.read() != '\n';
            }
        }
        OutputStream out = new BufferedOutputStream(Files.newOutputStream(s.path, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND), 64 * 1024);
        if (torn) {
            out.write('\n');
        }
        s.bytes = Files.size(s.path) + (torn ? 1 : 0);
        return out;
    }

    /**
     * Deletes whole segments: those whose newest line is older than the age cap, then the oldest
     * closed ones until they leave room for a full current segment under the size cap. A
     * function left with none gets an empty segment named by its next seq, so that the seq
     * continues after a restart.
     */
    private void retain(FunctionLog f) {
        long cutoff = clock.millis() - retention.maxAge().toMillis();
        long closedBytes = 0;
        for (Segment s : f.closed) {
            closedBytes += s.bytes;
        }
        for (Iterator<Segment> it = f.closed.iterator(); it.hasNext(); ) {
            Segment s = it.next();
            if (s.lastEpochMs < cutoff || s.bytes == 0 || closedBytes + retention.segmentBytes()
                    > retention.maxBytes()) {
                if (delete(s)) {
                    it.remove();
                    closedBytes -= s.bytes;
                }
            }
        }
        if (f.current != null && f.current.bytes > 0 && f.current.lastEpochMs < cutoff) {
            closeOut(f);
            if (delete(f.current)) {
                f.current = null;
            }
        }
        if (f.current == null && f.closed.isEmpty()) {
            Segment marker = new Segment(f.dir.resolve(Segments.name(f.lastSeq + 1)), f.lastSeq + 1, 0,
                    clock.millis());
            try {
                Files.createDirectories(f.dir);
                if (!Files.exists(marker.path)) {
                    Files.createFile(marker.path);
                }
                f.current = marker;
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot keep the seq of " + f.dir + ": " + e.getMessage());
            }
        }
    }

    private static boolean delete(Segment s) {
        try {
            Files.deleteIfExists(s.path);
            return true;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete the log segment " + s.path + ": " + e.getMessage());
            return false;
        }
    }

    private void clearNow(String function) {
        FunctionLog f = logs.remove(function);
        if (f != null) {
            closeOut(f);
        }
        try {
            Segments.deleteTree(root.resolve(function));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete the log of " + function + ": " + e.getMessage());
        }
    }

    /** Hourly retention of every function (by the injected clock); closes files idle for a minute. */
    private void housekeeping(long nowNanos) {
        long nowMs = clock.millis();
        if (nowMs >= nextRetentionMs) {
            nextRetentionMs = nowMs + RETENTION_EVERY.toMillis();
            for (FunctionLog f : logs.values()) {
                retain(f);
            }
        }
        for (FunctionLog f : logs.values()) {
            if (f.out != null && nowNanos - f.lastWriteNanos > IDLE_CLOSE_NANOS) {
                closeOut(f);
            }
        }
    }

    private void flushAll() {
        for (FunctionLog f : logs.values()) {
            if (f.dirty && f.out != null) {
                try {
                    f.out.flush();
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.WARNING, "cannot write the log in " + f.dir + ": " + e.getMessage());
                }
                f.dirty = false;
            }
        }
    }

    private static void closeOut(FunctionLog f) {
        if (f.out == null) {
            return;
        }
        try {
            f.out.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot write the log in " + f.dir + ": " + e.getMessage());
        }
        f.out = null;
        f.dirty = false;
    }

    private void reportDrops() {
        if (report == null) {
            return;
        }
        for (Map.Entry<String, Drops> e : drops.entrySet()) {
            long n = e.getValue().lines.getAndSet(0);
            if (n > 0) {
                report.dropped(e.getKey(), e.getValue().version, n);
            }
        }
    }
}
