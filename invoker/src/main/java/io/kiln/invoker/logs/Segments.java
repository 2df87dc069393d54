package io.kiln.invoker.logs;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reading a function's log directory: segment files named {@code <first seq>.jsonl}, each
 * holding lines in seq order. Lines that do not parse (the torn end of a write cut by a kill)
 * are skipped wherever they are.
 */
final class Segments {

    private static final Pattern NAME = Pattern.compile("([1-9][0-9]{0,18})\\.jsonl");
    /** Longer than any encoded line: 8192 characters of at most 3 bytes (tab escapes to 2), and the fields. */
    private static final int TAIL_BYTES = 64 * 1024;

    /** A segment file and its first seq. */
    record File(Path path, long firstSeq) {
    }

    private Segments() {
    }

    static String name(long firstSeq) {
        return firstSeq + ".jsonl";
    }

    /** The directory's segments, oldest (lowest first seq) first; other files are ignored. */
    static List<File> list(Path dir) throws IOException {
        List<File> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (m.matches() && Files.isRegularFile(p)) {
                    try {
                        out.add(new File(p, Long.parseLong(m.group(1))));
                    } catch (NumberFormatException e) {
                        // 19 digits above Long.MAX_VALUE: not ours
                    }
                }
            }
        }
        out.sort(Comparator.comparingLong(File::firstSeq));
        return out;
    }

    /** Every whole line of a segment, in file order. */
    static List<LogLine> read(String function, Path file) throws IOException {
        List<LogLine> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(Files.newInputStream(file),
                StandardCharsets.UTF_8))) {
            String s;
            while ((s = r.readLine()) != null) {
                LogLine l = LogCodec.decode(function, s);
                if (l != null) {
                    out.add(l);
                }
            }
        }
        return out;
    }

    /** The last whole line of a segment, read from its end; null if there is none there. */
    static LogLine last(String function, Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            int n = (int) Math.min(size, TAIL_BYTES);
            ByteBuffer buf = ByteBuffer.allocate(n);
            while (buf.hasRemaining() && ch.read(buf, size - n + buf.position()) >= 0) {
                // read the tail fully
            }
            String[] lines = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).split("\n");
            for (int i = lines.length - 1; i >= 0; i--) {
                LogLine l = LogCodec.decode(function, lines[i]);
                if (l != null) {
                    return l;
                }
            }
            return null;
        }
    }

    /**
     * Adds to {@code out}, oldest first, the lines in {@code dir} with a seq above {@code afterSeq}
     * and a time from {@code sinceMs} on, until it holds {@code limit}. Segments that end before
     * either are skipped unread (all of a segment's seqs are below the next one's first). Runs
     * beside the writer: a segment the retention deletes meanwhile is passed over, and the line
     * being written when it is read does not parse yet and is skipped.
     */
    static void readSince(Path dir, String function, long sinceMs, long afterSeq, int limit, List<LogLine> out)
            throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        List<File> files = list(dir);
        for (int i = 0; i < files.size() && out.size() < limit; i++) {
            Path path = files.get(i).path();
            try {
                if (i + 1 < files.size()) {
                    if (files.get(i + 1).firstSeq() - 1 <= afterSeq) {
                        continue;
                    }
                    LogLine newest = last(function, path);
                    if (newest != null && newest.epochMs() < sinceMs) {
                        continue;
                    }
                }
                try (BufferedReader r = new BufferedReader(new InputStreamReader(Files.newInputStream(path),
                        StandardCharsets.UTF_8))) {
                    String s;
                    while (out.size() < limit && (s = r.readLine()) != null) {
                        LogLine l = LogCodec.decode(function, s);
                        if (l != null && l.seq() > afterSeq && l.epochMs() >= sinceMs) {
                            out.add(l);
                        }
                    }
                }
            } catch (NoSuchFileException e) {
                // deleted by the retention or a clear since the listing
            }
        }
    }

    /** Deletes a directory and everything under it; nothing if it is not there. */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
