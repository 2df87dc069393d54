package io.kiln.invoker.logs;

import io.kiln.invoker.call.CallRequest;
import io.kiln.invoker.instance.LogSink;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Recent output of every function, kept in memory: the last {@code capacity} lines per
 * function, and followers that see new lines as they come. The bytes come from guests, so
 * lines are cut at {@link #MAX_LINE} characters and control characters other than tab are
 * replaced; a guest that floods its log only pushes its own old lines out.
 */
public final class LogBook {

    public static final int MAX_LINE = 8192;

    private static final class Book {
        final ArrayDeque<LogLine> lines = new ArrayDeque<>();
        final List<Consumer<LogLine>> followers = new CopyOnWriteArrayList<>();
        long seq;
    }

    private final int capacity;
    private final Map<String, Book> books = new ConcurrentHashMap<>();

    public LogBook(int capacity) {
        this.capacity = capacity;
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

    /** Calls {@code follower} with every new line of {@code function} until the returned handle is closed. */
    public AutoCloseable follow(String function, Consumer<LogLine> follower) {
        Book book = books.computeIfAbsent(function, k -> new Book());
        book.followers.add(follower);
        return () -> book.followers.remove(follower);
    }

    /** Forgets a deleted function's lines (followers stay until they close). */
    public void clear(String function) {
        Book book = books.get(function);
        if (book != null) {
            synchronized (book) {
                book.lines.clear();
            }
        }
    }

    private void add(String function, long version, long instanceId, String callId, String stream, String text) {
        Book book = books.computeIfAbsent(function, k -> new Book());
        LogLine line;
        synchronized (book) {
            line = new LogLine(++book.seq, System.currentTimeMillis(), function, version, instanceId, callId,
                    stream, text);
            if (book.lines.size() == capacity) {
                book.lines.removeFirst();
            }
            book.lines.addLast(line);
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
