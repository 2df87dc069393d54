package io.kiln.invoker.logs;

import io.kiln.invoker.call.CallRequest;
import io.kiln.invoker.instance.LogSink;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The output of every function: the last {@code capacity} lines per function in memory,
 * followers that see new lines as they come and, when opened on a directory, every line on disk
 * too ({@link LogWriter}), so that a restart reloads the recent lines and continues the seq. The
 * bytes come from guests, so lines are cut at {@link #MAX_LINE} characters and control
 * characters other than tab are replaced; a guest that floods its log only pushes its own old
 * lines out.
 */
public final class LogBook implements AutoCloseable {

    public static final int MAX_LINE = 8192;

    private static final class Book {
        final ArrayDeque<LogLine> lines = new ArrayDeque<>();
        final List<Consumer<LogLine>> followers = new CopyOnWriteArrayList<>();
        long seq;
    }

    private final int capacity;
    private final Clock clock;
    /** Null for a book kept in memory only. */
    private final LogWriter disk;
    private final Map<String, Book> books = new ConcurrentHashMap<>();

    /** A book in memory only: nothing survives the process. */
    public LogBook(int capacity) {
        this.capacity = capacity;
        this.clock = Clock.systemUTC();
        this.disk = null;
    }

    /** A book on {@code disk}, its lines reloaded from there; the caller starts the writer. */
    LogBook(int capacity, Clock clock, LogWriter disk) throws IOException {
        this.capacity = capacity;
        this.clock = clock;
        this.disk = disk;
        for (Map.Entry<String, LogWriter.Loaded> e : disk.load(capacity).entrySet()) {
            Book book = new Book();
            book.seq = e.getValue().lastSeq();
            book.lines.addAll(e.getValue().tail());
            books.put(e.getKey(), book);
        }
    }

    /**
     * A book that keeps every function's lines under {@code dir} ({@code <dir>/<function>/}) within
     * {@code retention}, and starts from what is there.
     */
    public static LogBook open(Path dir, int capacity, LogRetention retention) throws IOException {
        return open(dir, capacity, retention, Clock.systemUTC(), LogWriter.DEFAULT_QUEUE_LINES);
    }

    static LogBook open(Path dir, int capacity, LogRetention retention, Clock clock, int queueLines)
            throws IOException {
        LogWriter disk = new LogWriter(dir, retention, clock, queueLines);
        LogBook book = new LogBook(capacity, clock, disk);
        book.startWriter();
        return book;
    }

    /** Starts writing to disk what was queued and what comes. */
    void startWriter() {
        disk.start(this::dropped);
    }

    /** A sink for the instances of one function version. */
    public LogSink sink(String function, long version) {
        return new LogSink() {
            @Override
            public void log(long instanceId, long callId, String stream, byte[] bytes) {
                String id = callId == 0 ? "" : CallRequest.format(callId);
                for (String line : lines(new String(bytes, StandardCharsets.UTF_8))) {
                    add(function, version, instanceId, id, stream, line);
                }
            }

            @Override
            public void console(long instanceId, String line) {
                add(function, version, instanceId, "", "console", line);
            }
        };
    }

    /** Lines of {@code function} with a sequence number above {@code afterSeq}, oldest first, at most {@code limit}. */
    public List<LogLine> recent(String function, long afterSeq, int limit) {
        Book book = books.get(function);
        if (book == null) {
            return List.of();
        }
        synchronized (book) {
            List<LogLine> out = new ArrayList<>();
            for (LogLine l : book.lines) {
                if (l.seq() > afterSeq) {
                    out.add(l);
                }
            }
            return out.size() > limit ? List.copyOf(out.subList(out.size() - limit, out.size())) : out;
        }
    }

    /**
     * Lines of {@code function} from {@code sinceMs} on with a seq above {@code afterSeq}, oldest
     * first: the first {@code limit} of them (page on with {@code afterSeq} = the last seq seen).
     * They are read from disk, beyond the lines kept in memory, and the lines not yet written
     * come from memory. Reads files: never on an event loop.
     */
    public List<LogLine> since(String function, long sinceMs, long afterSeq, int limit) throws IOException {
        List<LogLine> out = new ArrayList<>();
        Path dir = disk == null ? null : disk.root().resolve(function).normalize();
        if (dir != null && disk.root().equals(dir.getParent())) {
            Segments.readSince(dir, function, sinceMs, afterSeq, limit, out);
        }
        Book book = books.get(function);
        if (book == null || out.size() >= limit) {
            return out;
        }
        long last = out.isEmpty() ? afterSeq : out.get(out.size() - 1).seq();
        synchronized (book) {
            for (LogLine l : book.lines) {
                if (out.size() == limit) {
                    break;
                }
                if (l.seq() > last && l.epochMs() >= sinceMs) {
                    out.add(l);
                }
            }
        }
        return out;
    }

    /** Calls {@code follower} with every new line of {@code function} until the returned handle is closed. */
    public AutoCloseable follow(String function, Consumer<LogLine> follower) {
        Book book = books.computeIfAbsent(function, k -> new Book());
        book.followers.add(follower);
        return () -> book.followers.remove(follower);
    }

    /** Forgets a deleted function's lines, in memory and on disk (followers stay until they close). */
    public void clear(String function) {
        Book book = books.get(function);
        if (book == null) {
            if (disk != null) {
                disk.clear(function);
            }
            return;
        }
        synchronized (book) {
            book.lines.clear();
            if (disk != null) {
                disk.clear(function); // after the lines queued before, which it deletes with them
            }
        }
    }

    /** Writes the lines still queued to disk and stops the writer; later lines stay in memory only. */
    @Override
    public void close() {
        if (disk != null) {
            disk.close();
        }
    }

    /** The writer's report of lines that found its queue full: a line of their own says so. */
    private void dropped(String function, long version, long lines) {
        add(function, version, 0, "", "kiln", lines + (lines == 1 ? " line" : " lines")
                + " dropped from the log on disk: the writer fell behind");
    }

    private void add(String function, long version, long instanceId, String callId, String stream, String text) {
        Book book = books.computeIfAbsent(function, k -> new Book());
        LogLine line;
        synchronized (book) {
            line = new LogLine(++book.seq, clock.millis(), function, version, instanceId, callId, stream, text);
            if (book.lines.size() == capacity) {
                book.lines.removeFirst();
            }
            book.lines.addLast(line);
            if (disk != null) {
                disk.offer(line); // under the lock: the disk gets each function's lines in seq order
            }
        }
        for (Consumer<LogLine> f : book.followers) {
            f.accept(line);
        }
    }

    /** Splits a LOG body into lines: one frame is usually one line, with its newline. */
    static List<String> lines(String text) {
        List<String> out = new ArrayList<>();
        int start = 0;
        while (start < text.length()) {
            int nl = text.indexOf('\n', start);
            int end = nl < 0 ? text.length() : nl;
            int last = end > start && text.charAt(end - 1) == '\r' ? end - 1 : end;
            out.add(clean(text, start, last));
            start = end + 1;
        }
        return out;
    }

    private static String clean(String text, int start, int end) {
        int stop = Math.min(end, start + MAX_LINE);
        StringBuilder b = new StringBuilder(stop - start);
        for (int i = start; i < stop; i++) {
            char c = text.charAt(i);
            b.append(c < 0x20 && c != '\t' || c == 0x7f ? '\uFFFD' : c);
        }
        return b.toString();
    }
}
