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

    /** kB of one group of mappings. */
    record Private(long cleanKiB, long dirtyKiB, long rssKiB) {
        long totalKiB() {
            return cleanKiB + dirtyKiB;
        }

        Private plus(Private o) {
            return new Private(cleanKiB + o.cleanKiB, dirtyKiB + o.dirtyKiB, rssKiB + o.rssKiB);
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

    static Split read(long pid, Predicate<String> select) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/" + (pid < 0 ? "self" : Long.toString(pid)), "smaps"));
        Private selected = new Private(0, 0, 0);
        Private rest = new Private(0, 0, 0);
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
            return new Private(kib(line), 0, 0);
        }
        if (line.startsWith("Private_Dirty:")) {
            return new Private(0, kib(line), 0);
        }
        if (line.startsWith("Rss:")) {
            return new Private(0, 0, kib(line));
        }
        return null;
    }

    private static long kib(String line) {
        String[] f = line.trim().split("\\s+");
        return Long.parseLong(f[1]);
    }

    /** The direct children of this JVM whose command line contains {@code marker}. */
    static List<Long> children(String marker) {
        List<Long> pids = new ArrayList<>();
        // Descendants: a jailed VMM is the jailer's child (the jailer itself, in the list too,
        // is part of what a jail costs).
        ProcessHandle.current().descendants().forEach(p -> {
            try {
                String cmd = Files.readString(Path.of("/proc/" + p.pid(), "cmdline")).replace('\0', ' ');
                if (cmd.contains(marker)) {
                    pids.add(p.pid());
                }
            } catch (IOException e) {
                // gone meanwhile
            }
        });
        return pids;
    }
}
