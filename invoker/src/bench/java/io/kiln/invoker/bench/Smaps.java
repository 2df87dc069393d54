package io.kiln.invoker.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Private memory of a process as the kernel counts it in {@code /proc/PID/smaps}: pages mapped
 * by this process only (Private_Clean, Private_Dirty), split into mappings whose file the caller
 * picks out (guest RAM: a snapshot's memory file, mapped MAP_PRIVATE by both VM engines) and
 * everything else.
 */
final class Smaps {

    /**
     * kB of one group of mappings: Private_Clean, Private_Dirty, Rss, and Pss (the pages shared
     * with other processes divided among them, so the sum over processes is what they use).
     */
    record Private(long cleanKiB, long dirtyKiB, long rssKiB, long pssKiB) {
        static final Private NONE = new Private(0, 0, 0, 0);

        long totalKiB() {
            return cleanKiB + dirtyKiB;
        }

        Private plus(Private o) {
            return new Private(cleanKiB + o.cleanKiB, dirtyKiB + o.dirtyKiB, rssKiB + o.rssKiB, pssKiB + o.pssKiB);
        }
    }

    /** One process: the selected mappings (guest RAM) and the rest. */
    record Split(Private selected, Private rest, int selectedMappings) {
        Private all() {
            return selected.plus(rest);
        }
    }

    private Smaps() {
    }

    /** {@code /proc/PID/smaps} ({@code pid} -1: this JVM's) split by {@code select} on each mapping's path. */
    static Split read(long pid, Predicate<String> select) throws IOException {
        return parse(Files.readAllLines(Path.of("/proc/" + (pid < 0 ? "self" : Long.toString(pid)), "smaps")), select);
    }

    /**
     * The whole process at once, from {@code /proc/PID/smaps_rollup} (the kernel sums every mapping:
     * far cheaper than smaps for a QEMU with thousands of them).
     */
    static Private rollup(long pid) throws IOException {
        return parse(Files.readAllLines(Path.of("/proc/" + pid, "smaps_rollup")), path -> false).rest();
    }

    /** smaps or smaps_rollup text: a header line per mapping (rollup: one), then its fields. */
    static Split parse(List<String> lines, Predicate<String> select) {
        Private selected = Private.NONE;
        Private rest = Private.NONE;
        int mappings = 0;
        boolean in = false;
        for (String line : lines) {
            if (isHeader(line)) {
                String[] f = line.trim().split("\\s+", 6);
                in = f.length == 6 && select.test(f[5]);
                if (in) {
                    mappings++;
                }
                continue;
            }
            Private p = field(line);
            if (p == null) {
                continue;
            }
            if (in) {
                selected = selected.plus(p);
            } else {
                rest = rest.plus(p);
            }
        }
        return new Split(selected, rest, mappings);
    }

    /** A mapping's first line: {@code start-end perms offset dev inode [path]}. */
    private static boolean isHeader(String line) {
        int dash = line.indexOf('-');
        int space = line.indexOf(' ');
        return dash > 0 && space > dash && line.substring(0, dash).chars().allMatch(Smaps::hex);
    }

    private static boolean hex(int c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    }

    private static Private field(String line) {
        if (line.startsWith("Private_Clean:")) {
            return new Private(kib(line), 0, 0, 0);
        }
        if (line.startsWith("Private_Dirty:")) {
            return new Private(0, kib(line), 0, 0);
        }
        if (line.startsWith("Rss:")) {
            return new Private(0, 0, kib(line), 0);
        }
        if (line.startsWith("Pss:")) { // not Pss_Anon, Pss_File...: those split the same pages again
            return new Private(0, 0, 0, kib(line));
        }
        return null;
    }

    private static long kib(String line) {
        String[] f = line.trim().split("\\s+");
        return Long.parseLong(f[1]);
    }

    /**
     * The descendants of this JVM whose command line contains {@code marker}. A jailed VMM is the
     * jailer's child; the jailer, in the list too when its own command line names the VMM, is
     * part of what a jail costs.
     */
    static List<Long> children(String marker) {
        return descendants(argv -> String.join(" ", argv).contains(marker));
    }

    /** The descendants of this JVM running {@code program} itself (its argv[0]'s file name), not a wrapper of it. */
    static List<Long> running(String program) {
        return descendants(argv -> argv.length > 0 && Path.of(argv[0]).getFileName().toString().equals(program));
    }

    private static List<Long> descendants(Predicate<String[]> select) {
        List<Long> pids = new ArrayList<>();
        ProcessHandle.current().descendants().forEach(p -> {
            try {
                String[] argv = Files.readString(Path.of("/proc/" + p.pid(), "cmdline")).split("\0");
                if (select.test(argv)) {
                    pids.add(p.pid());
                }
            } catch (IOException e) {
                // gone meanwhile
            }
        });
        return pids;
    }
}
