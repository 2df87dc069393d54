package io.kiln.microvm.jail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What one jailed program is: the VM group it belongs to and what that group may use.
 *
 * @param name             the VM group (a function's name, or {@code base} for the base snapshot
 *                         builds): its cgroup is {@code kiln/<name>}
 * @param uid              the unprivileged uid the program runs as (never 0)
 * @param gid              its gid (never 0)
 * @param readOnly         host files and directories the program sees read-only, at the same paths
 * @param readWrite        host files and directories it sees read-write, at the same paths
 * @param kvm              whether the jail has {@code /dev/kvm} (owned by the uid, mode 0600)
 * @param memoryLimitBytes the group's memory limit, every program in the group together; 0 = none
 * @param cpuMillis        the group's CPU limit in thousandths of a core (1000 = one core); 0 = none
 */
public record JailSpec(String name, int uid, int gid, List<Path> readOnly, List<Path> readWrite,
                       boolean kvm, long memoryLimitBytes, long cpuMillis) {

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-_.]{0,99}");

    public JailSpec {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("jail name must match " + NAME + " (it names a cgroup), got '" + name + "'");
        }
        if (uid <= 0 || gid <= 0) {
            throw new IllegalArgumentException("jail uid and gid must be positive (not root), got " + uid + ":" + gid);
        }
        readOnly = List.copyOf(readOnly);
        readWrite = List.copyOf(readWrite);
        for (Path p : readOnly) {
            requireAbsolute(p);
        }
        for (Path p : readWrite) {
            requireAbsolute(p);
        }
        if (memoryLimitBytes < 0) {
            throw new IllegalArgumentException("jail memory limit must be >= 0 (0 = none), got " + memoryLimitBytes);
        }
        if (cpuMillis < 0) {
            throw new IllegalArgumentException("jail CPU limit must be >= 0 millicores (0 = none), got " + cpuMillis);
        }
    }

    /** This jail with {@code moreReadOnly} and {@code moreReadWrite} visible too, and {@code kvm} as given. */
    public JailSpec plus(List<Path> moreReadOnly, List<Path> moreReadWrite, boolean kvm) {
        List<Path> ro = new ArrayList<>(readOnly);
        ro.addAll(moreReadOnly);
        List<Path> rw = new ArrayList<>(readWrite);
        rw.addAll(moreReadWrite);
        return new JailSpec(name, uid, gid, ro, rw, kvm, memoryLimitBytes, cpuMillis);
    }

    /** Hands {@code path} to {@code uid} and {@code gid}: the jailed program creates or opens it. */
    public static void handOver(Path path, int uid, int gid) throws IOException {
        Files.setAttribute(path, "unix:uid", uid);
        Files.setAttribute(path, "unix:gid", gid);
    }

    private static void requireAbsolute(Path p) {
        if (!p.isAbsolute()) {
            throw new IllegalArgumentException("jail paths must be absolute, got " + p);
        }
    }
}
