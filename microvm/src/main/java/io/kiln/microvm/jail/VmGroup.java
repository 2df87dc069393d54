package io.kiln.microvm.jail;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The identity and limits of one VM group: every VM of one function on this node (or of the
 * base snapshot builds). The engine that starts a VM adds the paths that VM needs and jails it
 * with {@link #spec}; an engine without jails ignores the group.
 *
 * @param name             the group: a function's name, or {@link #BASE} (a name no function can
 *                         have); it names the group's cgroup
 * @param uid              the group's own uid (never 0, never another group's)
 * @param gid              the group's own gid
 * @param memoryLimitBytes every VM of the group together (their VMMs and guest RAM); 0 = none
 * @param cpuMillis        the group's CPU, in thousandths of a core; 0 = none
 */
public record VmGroup(String name, int uid, int gid, long memoryLimitBytes, long cpuMillis) {

    /** The base snapshot builds' group: a dot, which function names never hold, keeps it apart. */
    public static final String BASE = "kiln.base";

    public VmGroup {
        // JailSpec's checks, once, here: a group that cannot become a jail is refused early.
        new JailSpec(name, uid, gid, List.of(), List.of(), false, memoryLimitBytes, cpuMillis);
    }

    /** Hands {@code path} to the group's uid and gid (its VMM creates or opens it). */
    public void own(Path path) throws IOException {
        JailSpec.handOver(path, uid, gid);
    }

    /** The jail of one VM of this group, seeing {@code readOnly} and {@code readWrite}. */
    public JailSpec spec(List<Path> readOnly, List<Path> readWrite, boolean kvm) {
        return new JailSpec(name, uid, gid, readOnly, readWrite, kvm, memoryLimitBytes, cpuMillis);
    }
}
