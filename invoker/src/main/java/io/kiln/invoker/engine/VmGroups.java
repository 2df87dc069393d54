package io.kiln.invoker.engine;

import io.kiln.invoker.store.FunctionConfig;
import io.kiln.microvm.jail.VmGroup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The VM groups of this node: one per function, and {@link VmGroup#BASE} for the base snapshot
 * builds. Each has its own uid (and gid of the same number), allocated the first time the group
 * is needed and kept for good: {@code <dir>/<uid>} holds the group's name. The file is created
 * with CREATE_NEW, so two allocations (threads or processes) never take one uid, and a uid is
 * never given to another group, even after its function is deleted: files it owned may remain
 * (a deleted function that comes back by the same name gets its uid back).
 *
 * <p>The group's limits follow its function's settings: memory for every VM it may run at once
 * (its guest memory plus the engine's per-VM overhead), and that many cores, at most the host's.
 */
public final class VmGroups {

    /** The first uid; uids from here up belong to Kiln's groups, far above any login's. */
    public static final int FIRST_UID = 900_000;

    private final Path dir;
    private final int vmOverheadMib;
    private final int hostCores;
    private final Map<String, Integer> uids = new HashMap<>();
    private int next = FIRST_UID;

    /**
     * @param dir           where the uid files live (created if missing)
     * @param vmOverheadMib what one VM costs beyond its guest memory ({@link Engine#vmOverheadMib})
     * @param hostCores     the CPU limit's cap
     */
    public VmGroups(Path dir, int vmOverheadMib, int hostCores) throws IOException {
        this.dir = dir;
        this.vmOverheadMib = vmOverheadMib;
        this.hostCores = hostCores;
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String file = f.getFileName().toString();
                if (!file.matches("[0-9]{1,10}")) {
                    continue; // a half-written temp file of a crashed allocation has no number for a name
                }
                int uid = Integer.parseInt(file);
                String name = Files.readString(f, StandardCharsets.UTF_8).strip();
                // Two processes that raced for one group both wrote a file: the lower uid wins, always.
                uids.merge(name, uid, Math::min);
                next = Math.max(next, uid + 1);
            }
        }
    }

    /**
     * The group of function {@code name} running versions of {@code config}: at most
     * {@link #vmSlots} VMs at once.
     */
    public synchronized VmGroup function(String name, FunctionConfig config) {
        int slots = vmSlots(config);
        return group(name, slots * (config.memoryMib() + (long) vmOverheadMib) << 20, Math.min(slots, hostCores) * 1000L);
    }

    /**
     * How many VMs a function may have at once: instances serve one call each, so as many as its
     * calls in flight (or its warm minimum, if higher), at most its maxInstances; plus one for the
     * snapshot a deploy builds while the current version still serves.
     */
    public static int vmSlots(FunctionConfig config) {
        return Math.min(config.maxInstances(), Math.max(config.maxConcurrency(), config.minInstances())) + 1;
    }

    /**
     * The base snapshot builds' group: one VM per memory size at a time, so twice one VM's memory:
     * a base boot also reads the whole guest image (about 100 MiB of page cache, charged to the
     * group that reads it first; measured at 354 MiB for a 256 MiB base), and two sizes may build
     * at once. One core.
     */
    public synchronized VmGroup base(int memoryMib) {
        return group(VmGroup.BASE, 2 * (memoryMib + (long) vmOverheadMib) << 20, 1000);
    }

    /** The uid of group {@code name}, allocated now if it has none. */
    public synchronized int uid(String name) {
        Integer uid = uids.get(name);
        if (uid != null) {
            return uid;
        }
        while (true) {
            int candidate = next++;
            Path file = dir.resolve(Integer.toString(candidate));
            try {
                Files.writeString(file, name + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE);
                uids.put(name, candidate);
                return candidate;
            } catch (FileAlreadyExistsException e) {
                // Another process took it since we listed the directory: try the next one.
            } catch (IOException e) {
                throw new UncheckedIOException("allocating a uid for VM group " + name + " in " + dir + " failed", e);
            }
        }
    }

    private VmGroup group(String name, long memoryBytes, long cpuMillis) {
        int uid = uid(name);
        return new VmGroup(name, uid, uid, memoryBytes, cpuMillis);
    }
}
