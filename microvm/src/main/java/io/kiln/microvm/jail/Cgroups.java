package io.kiln.microvm.jail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The cgroups of VM groups: {@code <parent>/<name>} (parent {@code kiln}) with the group's memory
 * and CPU limits, in cgroup v2 when a cgroup2 mount offers the memory controller, else in the v1
 * {@code memory} and {@code cpu} hierarchies.
 *
 * <p>The groups hang off each hierarchy's root, not off this JVM's own cgroup: in v2 only the
 * root may hold processes and enable controllers for its children at once (the "no internal
 * processes" rule), and the gateway's cgroup usually holds the gateway.
 */
public final class Cgroups {

    /** Which cgroup version holds the groups. */
    public enum Version { V1, V2 }

    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");
    private static final long CPU_PERIOD_US = 100_000;

    private final Version version;
    /** v2: the one mount; v1: the memory hierarchy, then the cpu one (absent when not mounted). */
    private final List<Path> hierarchies;
    private final boolean cpu;
    private final String parent;

    private Cgroups(Version version, List<Path> hierarchies, boolean cpu, String parent) {
        this.version = version;
        this.hierarchies = List.copyOf(hierarchies);
        this.cpu = cpu;
        this.parent = parent;
    }

    /**
     * The cgroups of this host, groups under {@code parent} (e.g. {@code kiln}).
     *
     * @throws JailUnavailableException when no hierarchy has the memory controller
     */
    public static Cgroups detect(String parent) {
        if (!parent.matches("[a-z0-9][a-z0-9-_.]*(/[a-z0-9][a-z0-9-_.]*)*")) {
            throw new IllegalArgumentException("cgroup parent must be a relative path of simple names, got '" + parent + "'");
        }
        List<String[]> mounts;
        try {
            mounts = Files.readAllLines(MOUNTINFO).stream().map(Cgroups::mountFields).toList();
        } catch (IOException e) {
            throw new JailUnavailableException("cannot read " + MOUNTINFO + ": " + e.getMessage(), e);
        }
        // v2 first: a cgroup2 mount whose root offers memory (on a v1 host memory is bound to the
        // v1 hierarchy, and the v2 mount, if any, lists no memory controller).
        for (String[] m : mounts) {
            if (m[1].equals("cgroup2")) {
                Path mount = Path.of(m[0]);
                Set<String> controllers = controllers(mount.resolve("cgroup.controllers"));
                if (controllers.contains("memory")) {
                    return new Cgroups(Version.V2, List.of(mount), controllers.contains("cpu"), parent);
                }
            }
        }
        Path memory = null;
        Path cpuMount = null;
        for (String[] m : mounts) {
            if (m[1].equals("cgroup")) {
                List<String> options = Arrays.asList(m[2].split(","));
                if (options.contains("memory") && memory == null) {
                    memory = Path.of(m[0]);
                }
                if (options.contains("cpu") && cpuMount == null) {
                    cpuMount = Path.of(m[0]);
                }
            }
        }
        if (memory == null) {
            throw new JailUnavailableException("no cgroup hierarchy has the memory controller "
                    + "(no cgroup2 mount lists it in cgroup.controllers, no v1 memory mount)");
        }
        List<Path> hs = cpuMount == null ? List.of(memory) : List.of(memory, cpuMount);
        return new Cgroups(Version.V1, hs, cpuMount != null, parent);
    }

    /** mountinfo line → {mount point, fs type, super options}. */
    private static String[] mountFields(String line) {
        String[] f = line.split(" ");
        int dash = Arrays.asList(f).indexOf("-");
        return new String[]{unescape(f[4]), f[dash + 1], f[dash + 3]};
    }

    /** mountinfo writes space, tab, newline and backslash as octal escapes. */
    private static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static Set<String> controllers(Path file) {
        try {
            return Set.of(Files.readString(file).trim().split("\\s+"));
        } catch (IOException e) {
            return Set.of();
        }
    }

    public Version version() {
        return version;
    }

    /** Whether groups get a CPU limit (the cpu controller is there). */
    public boolean cpuLimits() {
        return cpu;
    }

    /** E.g. {@code v1 (memory at /sys/fs/cgroup/memory, cpu at /sys/fs/cgroup/cpu), groups under kiln/}. */
    public String describe() {
        if (version == Version.V2) {
            return "v2 at " + hierarchies.get(0) + (cpu ? "" : " (no cpu controller: no CPU limits)")
                    + ", groups under " + parent + "/";
        }
        return "v1 (memory at " + hierarchies.get(0)
                + (cpu ? ", cpu at " + hierarchies.get(1) : ", no cpu hierarchy: no CPU limits")
                + "), groups under " + parent + "/";
    }

    /** The directories of group {@code name}, one per hierarchy (the jailer joins each). */
    public List<Path> dirs(String name) {
        List<Path> dirs = new ArrayList<>();
        for (Path h : hierarchies) {
            dirs.add(h.resolve(parent).resolve(name));
        }
        return dirs;
    }

    /**
     * Creates group {@code name} if missing and sets its limits (again, if it exists: they follow
     * the group's current settings). {@code memoryLimitBytes} or {@code cpuMillis} 0: no limit.
     * A memory limit is never lowered while the group holds processes: below what they use, the
     * kernel would kill them (v2) or refuse (v1), and they are instances still serving or
     * draining; the lower limit applies once the group is empty again.
     *
     * @return the group's directories, for the jailer's {@code --cgroup}
     */
    public synchronized List<Path> create(String name, long memoryLimitBytes, long cpuMillis) throws IOException {
        if (version == Version.V2) {
            Path root = hierarchies.get(0);
            Path kiln = root;
            enableControllers(root);
            for (String part : parent.split("/")) {
                kiln = kiln.resolve(part);
                Files.createDirectories(kiln);
                enableControllers(kiln);
            }
            Path group = kiln.resolve(name);
            Files.createDirectories(group);
            if (mayLower(group, group.resolve("memory.max"), memoryLimitBytes)) {
                write(group.resolve("memory.max"), memoryLimitBytes == 0 ? "max" : Long.toString(memoryLimitBytes));
            }
            // Without this, swap would stretch the limit: the limit is what the group may hold.
            if (Files.exists(group.resolve("memory.swap.max"))) {
                write(group.resolve("memory.swap.max"), "0");
            }
            if (cpu) {
                write(group.resolve("cpu.max"), cpuMillis == 0 ? "max " + CPU_PERIOD_US
                        : (cpuMillis * CPU_PERIOD_US / 1000) + " " + CPU_PERIOD_US);
            }
            return List.of(group);
        }
        List<Path> dirs = dirs(name);
        Path memory = dirs.get(0);
        Files.createDirectories(memory);
        String limit = memoryLimitBytes == 0 ? "-1" : Long.toString(memoryLimitBytes);
        Path memsw = memory.resolve("memory.memsw.limit_in_bytes");
        Path plain = memory.resolve("memory.limit_in_bytes");
        if (mayLower(memory, plain, memoryLimitBytes)) {
            // memsw (memory + swap) >= the limit at every step, or the kernel refuses the write:
            // the limit first when shrinking, memsw first when growing.
            boolean shrinking = memoryLimitBytes != 0 && memoryLimitBytes < currentLimit(plain);
            if (shrinking) {
                write(plain, limit);
            }
            if (Files.exists(memsw)) {
                write(memsw, limit);
            }
            if (!shrinking) {
                write(plain, limit);
            }
        }
        if (cpu) {
            Path cpuDir = dirs.get(1);
            Files.createDirectories(cpuDir);
            write(cpuDir.resolve("cpu.cfs_period_us"), Long.toString(CPU_PERIOD_US));
            write(cpuDir.resolve("cpu.cfs_quota_us"), cpuMillis == 0 ? "-1" : Long.toString(cpuMillis * CPU_PERIOD_US / 1000));
        }
        return dirs;
    }

    /** A limit file's value; "max" (v2) and v1's near-Long.MAX_VALUE both read as Long.MAX_VALUE. */
    private static long currentLimit(Path file) throws IOException {
        String v = Files.readString(file).trim();
        return v.equals("max") ? Long.MAX_VALUE : Long.parseLong(v);
    }

    /** Whether {@code wanted} (0 = none) may be written over {@code file}'s limit in {@code group}. */
    private static boolean mayLower(Path group, Path file, long wanted) throws IOException {
        long target = wanted == 0 ? Long.MAX_VALUE : wanted;
        return target >= currentLimit(file) || Files.readString(group.resolve("cgroup.procs")).isBlank();
    }

    /** v2: lets {@code dir}'s children use memory (and cpu): a child cgroup only has what its parent enables. */
    private void enableControllers(Path dir) throws IOException {
        Set<String> enabled = controllers(dir.resolve("cgroup.subtree_control"));
        if (!enabled.contains("memory")) {
            write(dir.resolve("cgroup.subtree_control"), "+memory");
        }
        if (cpu && !enabled.contains("cpu")) {
            write(dir.resolve("cgroup.subtree_control"), "+cpu");
        }
    }

    /**
     * Removes group {@code name} (when its VM group goes). Fails while a process is still in it.
     *
     * @return whether it existed
     */
    public synchronized boolean remove(String name) throws IOException {
        boolean existed = false;
        for (Path dir : dirs(name)) {
            try {
                // A cgroup directory is removed with rmdir alone: its files are the kernel's.
                Files.delete(dir);
                existed = true;
            } catch (NoSuchFileException e) {
                // already gone
            }
        }
        return existed;
    }

    private static void write(Path file, String value) throws IOException {
        try {
            Files.writeString(file, value, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IOException("writing '" + value + "' to " + file + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * The memory limit of the cgroup process {@code pid} is in (v2 {@code memory.max}, v1
     * {@code memory.limit_in_bytes}); empty when it has none.
     */
    public OptionalLong memoryLimitOf(long pid) throws IOException {
        Path dir = cgroupOf(pid, version == Version.V2 ? "" : "memory");
        String value = Files.readString(dir.resolve(version == Version.V2 ? "memory.max" : "memory.limit_in_bytes")).trim();
        if (value.equals("max")) {
            return OptionalLong.empty();
        }
        long limit = Long.parseLong(value);
        // v1 writes "no limit" as the largest page-aligned long.
        return limit >= Long.MAX_VALUE - 4096 * 2 ? OptionalLong.empty() : OptionalLong.of(limit);
    }

    /**
     * The directory of the cgroup process {@code pid} is in: in v2 ({@code controller} empty) or
     * in the v1 hierarchy of {@code controller}.
     */
    public Path cgroupOf(long pid, String controller) throws IOException {
        Path hierarchy = version == Version.V2 ? hierarchies.get(0)
                : controller.equals("memory") ? hierarchies.get(0)
                : controller.equals("cpu") && cpu ? hierarchies.get(1) : null;
        if (hierarchy == null) {
            throw new IllegalArgumentException("no hierarchy for controller '" + controller + "' here: " + describe());
        }
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup"))) {
            String[] f = line.split(":", 3);
            boolean match = version == Version.V2 ? f[0].equals("0") && f[1].isEmpty()
                    : Arrays.asList(f[1].split(",")).contains(controller);
            if (match) {
                return hierarchy.resolve(f[2].substring(1));
            }
        }
        throw new IOException("process " + pid + " is in no " + (controller.isEmpty() ? "v2" : controller) + " cgroup");
    }
}
