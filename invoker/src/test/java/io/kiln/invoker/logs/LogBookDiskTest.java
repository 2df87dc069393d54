package io.kiln.invoker.logs;

import io.kiln.invoker.instance.LogSink;
import io.kiln.invoker.testing.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The log book on disk: what a restart finds, seq continuity, torn lines, retention, clearing, drops. */
class LogBookDiskTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final long T0 = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(T0);

    @Test
    void linesSurviveANewBookWithTheirSeqs() {
        List<LogLine> before;
        try (LogBook book = open(LogRetention.defaults(), 2000)) {
            LogSink sink = book.sink("greeter", 3);
            sink.log(7, 42, "stdout", "hello\nworld\n".getBytes(StandardCharsets.UTF_8));
            sink.console(7, "a console line with \"quotes\" and \t a tab, ünïcödé");
            sink.log(8, 0, "kiln", "init done".getBytes(StandardCharsets.UTF_8));
            before = book.recent("greeter", 0, 100);
        }
        assertEquals(List.of(1L, 2L, 3L, 4L), before.stream().map(LogLine::seq).toList());

        try (LogBook book = open(LogRetention.defaults(), 2000)) {
            assertEquals(before, book.recent("greeter", 0, 100), "the same lines, seqs, times, calls and streams");
            assertEquals(before.subList(2, 4), book.recent("greeter", 2, 100));
            book.sink("greeter", 4).log(9, 0, "stdout", "after the restart".getBytes(StandardCharsets.UTF_8));
            LogLine next = book.recent("greeter", 4, 100).get(0);
            assertEquals(5, next.seq(), "the seq goes on after the last one on disk");
            assertEquals(4, next.version());
        }
        assertEquals(List.of("1.jsonl", "5.jsonl"), files("greeter"), "each run begins a segment of its own");
        try (LogBook book = open(LogRetention.defaults(), 2000)) {
            assertEquals(List.of(1L, 2L, 3L, 4L, 5L), book.recent("greeter", 0, 100).stream().map(LogLine::seq)
                    .toList());
        }
    }

    @Test
    void aRestartReloadsOnlyTheLastLinesAcrossSegments() {
        LogRetention small = new LogRetention(100 * lineBytes(), Duration.ofDays(7), 10 * lineBytes());
        try (LogBook book = open(small, 2000)) {
            write(book, 1, 25);
        }
        assertEquals(List.of("1.jsonl", "11.jsonl", "21.jsonl"), files("f"));
        try (LogBook book = open(small, 12)) {
            assertEquals(LongStream.rangeClosed(14, 25).boxed().toList(), seqs(book.recent("f", 0, 2000)),
                    "the newest 12, from the last two segments");
            write(book, 26, 26);
            assertEquals(26, book.recent("f", 25, 10).get(0).seq());
        }
    }

    @Test
    void aTornLastLineIsSkippedAndTheNextRunWritesAfterIt() throws IOException {
        try (LogBook book = open(LogRetention.defaults(), 2000)) {
            write(book, 1, 3);
        }
        Path first = dir.resolve("f").resolve("1.jsonl");
        Files.writeString(first, "{\"seq\":4,\"epochMs\":17", StandardOpenOption.APPEND); // cut by a kill -9
        try (LogBook book = open(LogRetention.defaults(), 2000)) {
            assertEquals(List.of(1L, 2L, 3L), seqs(book.recent("f", 0, 100)));
        }
        // A kill in the first line of a new segment: a file with nothing whole in it.
        Files.writeString(dir.resolve("f").resolve("4.jsonl"), "{\"seq\":4,\"epo");
        try (LogBook book = open(LogRetention.defaults(), 2000)) {
            assertEquals(List.of(1L, 2L, 3L), seqs(book.recent("f", 0, 100)));
            write(book, 4, 5);
        }
        assertEquals(List.of("1.jsonl", "4.jsonl"), files("f"), "the torn segment is continued, after a newline");
        try (LogBook book = open(LogRetention.defaults(), 2000)) {
            assertEquals(List.of(1L, 2L, 3L, 4L, 5L), seqs(book.recent("f", 0, 100)));
        }
    }

    @Test
    void theSizeCapDeletesTheOldestSegmentsAndLeavesRoomForTheCurrentOne() throws IOException {
        long line = lineBytes();
        LogRetention r = new LogRetention(30 * line, Duration.ofDays(7), 10 * line);
        try (LogBook book = open(r, 2000)) {
            write(book, 1, 35);
            // At the roll to 31, 1 went: two closed segments (20 lines) leave room for a full one.
            Await.until(WAIT, List.of("11.jsonl", "21.jsonl", "31.jsonl"), () -> files("f"), "segments at 35 lines");
            write(book, 36, 50);
        }
        assertEquals(List.of("21.jsonl", "31.jsonl", "41.jsonl"), files("f"));
        assertEquals(30 * line, size("f"), "exactly the cap: three full segments");
        try (LogBook book = open(r, 2000)) {
            assertEquals(LongStream.rangeClosed(21, 50).boxed().toList(), seqs(book.recent("f", 0, 2000)));
        }
    }

    @Test
    void theAgeCapDeletesSegmentsWhoseNewestLineIsOlderAndKeepsTheSeq() throws IOException {
        long line = lineBytes();
        LogRetention r = new LogRetention(100 * line, Duration.ofDays(7), 10 * line);
        try (LogBook book = open(r, 2000)) {
            write(book, 1, 25);
            Await.until(WAIT, List.of("1.jsonl", "11.jsonl", "21.jsonl"), () -> files("f"), "first lines");
            clock.advance(Duration.ofDays(3));
            write(book, 26, 35); // 26..30 end segment 21, so it is three days younger than 1 and 11
            Await.until(WAIT, List.of("1.jsonl", "11.jsonl", "21.jsonl", "31.jsonl"), () -> files("f"),
                    "second lines");
            clock.advance(Duration.ofDays(5)); // the first lines are 8 days old, the second 5
            Await.until(WAIT, List.of("21.jsonl", "31.jsonl"), () -> files("f"), "the hourly check at day 8");
        }
        try (LogBook book = open(r, 2000)) {
            assertEquals(LongStream.rangeClosed(26, 35).boxed().toList(), seqs(book.recent("f", 0, 100)),
                    "21..25, in a segment kept for its newer lines, are too old to reload");
            clock.advance(Duration.ofDays(3)); // all are older than 7 days now
            Await.until(WAIT, List.of("36.jsonl"), () -> files("f"), "an empty segment named by the next seq");
            assertEquals(0, size("f"));
        }
        try (LogBook book = open(r, 2000)) {
            assertEquals(List.of(), book.recent("f", 0, 100));
            write(book, 36, 36);
            assertEquals(List.of(36L), seqs(book.recent("f", 0, 100)), "the seq went on");
        }
        assertEquals(List.of("36.jsonl"), files("f"));
    }

    @Test
    void clearDeletesTheFunctionsDirectoryWithTheLinesQueuedBefore() {
        try (LogBook book = open(LogRetention.defaults(), 2000)) {
            write(book, 1, 3);
            Await.until(WAIT, List.of("1.jsonl"), () -> files("f"), "written");
            write(book, 4, 6);
            write(book, "other", 1, 2);
            book.clear("f");
            assertEquals(List.of(), book.recent("f", 0, 100));
            Await.until(WAIT, false, () -> Files.exists(dir.resolve("f")), "the directory is gone");
        }
        assertFalse(Files.exists(dir.resolve("f")), "lines queued before the clear were not written after it");
        try (LogBook book = open(LogRetention.defaults(), 2000)) {
            assertEquals(List.of(), book.recent("f", 0, 100));
            assertEquals(List.of(1L, 2L), seqs(book.recent("other", 0, 100)));
        }
    }

    @Test
    void linesThatFindTheQueueFullAreDroppedFromDiskAndReported() throws IOException {
        LogWriter disk = new LogWriter(dir, LogRetention.defaults(), clock, 3);
        try (LogBook book = new LogBook(2000, clock, disk)) {
            write(book, 1, 5); // the writer is not running yet: 3 queued, 2 dropped
            assertEquals(List.of(1L, 2L, 3L, 4L, 5L), seqs(book.recent("f", 0, 100)), "memory has every line");
            book.startWriter();
            Await.until(WAIT, 6, () -> book.recent("f", 0, 100).size(), "the report, once the writer caught up");
            LogLine report = book.recent("f", 5, 100).get(0);
            assertEquals("kiln", report.stream());
            assertEquals("2 lines dropped from the log on disk: the writer fell behind", report.text());
            assertEquals(1, report.version());
        }
        try (LogBook book = open(LogRetention.defaults(), 2000)) {
            List<LogLine> disk2 = book.recent("f", 0, 100);
            assertEquals(List.of(1L, 2L, 3L, 6L), seqs(disk2), "on disk: what was queued, and the report");
            assertEquals("2 lines dropped from the log on disk: the writer fell behind", disk2.get(3).text());
        }
    }

    @Test
    void sinceReadsOlderLinesFromDiskThanMemoryKeeps() throws IOException {
        LogRetention r = new LogRetention(100 * lineBytes(), Duration.ofDays(7), 10 * lineBytes());
        try (LogBook book = open(r, 5)) {
            for (int i = 1; i <= 30; i++) {
                clock.advance(Duration.ofMinutes(1)); // line i at T0 + i minutes
                write(book, i, i);
            }
        }
        try (LogBook book = open(r, 5)) {
            assertEquals(List.of(26L, 27L, 28L, 29L, 30L), seqs(book.recent("f", 0, 100)), "memory keeps 5");
            long twelve = T0 + Duration.ofMinutes(12).toMillis();
            assertEquals(List.of(12L, 13L, 14L, 15L, 16L), seqs(book.since("f", twelve, 0, 5)),
                    "the oldest from that time on");
            assertEquals(LongStream.rangeClosed(17, 30).boxed().toList(), seqs(book.since("f", twelve, 16, 100)),
                    "the next page, after the last seq seen");
            assertEquals(List.of(1L, 2L), seqs(book.since("f", 0, 0, 2)));
            assertEquals(List.of(), book.since("f", T0 + Duration.ofHours(1).toMillis(), 0, 100));
            assertEquals(List.of(), book.since("nobody", 0, 0, 100));
            write(book, 31, 32); // in memory at once, on disk within 200 ms: found either way
            assertEquals(List.of(30L, 31L, 32L), seqs(book.since("f", T0 + Duration.ofMinutes(30).toMillis(), 0,
                    100)));
        }
        LogBook memory = new LogBook(100);
        write(memory, 1, 3);
        assertEquals(List.of(2L, 3L), seqs(memory.since("f", 0, 1, 100)), "a book in memory only reads memory");
    }

    @Test
    void anUnpairedSurrogateIsReplacedOnDiskInsteadOfFailingTheWrite() {
        try (LogBook book = open(LogRetention.defaults(), 2000)) {
            book.sink("f", 1).console(1, "cut \uD83D here, whole \uD83D\uDE00 there, low \uDE00 alone");
        }
        try (LogBook book = open(LogRetention.defaults(), 2000)) {
            assertEquals("cut \uFFFD here, whole \uD83D\uDE00 there, low \uFFFD alone",
                    book.recent("f", 0, 10).get(0).text());
        }
    }

    // ---- helpers -----------------------------------------------------------------------

    private LogBook open(LogRetention r, int capacity) {
        try {
            return LogBook.open(dir, capacity, r, clock, LogWriter.DEFAULT_QUEUE_LINES);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Lines {@code from..to} of {@code f}, each encoding to {@link #lineBytes()} bytes. */
    private static void write(LogBook book, int from, int to) {
        write(book, "f", from, to);
    }

    private static void write(LogBook book, String function, int from, int to) {
        LogSink sink = book.sink(function, 1);
        for (int i = from; i <= to; i++) {
            sink.log(0, 0, "stdout", text(i).getBytes(StandardCharsets.UTF_8));
        }
    }

    /** As long as the seq is short: every line has the same length on disk. */
    private static String text(long seq) {
        return "line-" + "x".repeat(6 - Long.toString(seq).length());
    }

    private static long lineBytes() {
        return LogCodec.encode(new LogLine(1, T0, "f", 1, 0, "", "stdout", text(1))).length;
    }

    private static List<Long> seqs(List<LogLine> lines) {
        return lines.stream().map(LogLine::seq).toList();
    }

    private List<String> files(String function) {
        Path d = dir.resolve(function);
        if (!Files.isDirectory(d)) {
            return List.of();
        }
        try {
            return Segments.list(d).stream().map(f -> f.path().getFileName().toString()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private long size(String function) throws IOException {
        long total = 0;
        for (Segments.File f : Segments.list(dir.resolve(function))) {
            total += Files.size(f.path());
        }
        return total;
    }

    /** Wall time that moves only when the test says. */
    private static final class MutableClock extends Clock {
        private final AtomicLong millis;

        MutableClock(long millis) {
            this.millis = new AtomicLong(millis);
        }

        void advance(Duration d) {
            millis.addAndGet(d.toMillis());
        }

        @Override
        public long millis() {
            return millis.get();
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis.get());
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
