package io.kiln.invoker.engine;

import io.kiln.microvm.jail.VmGroup;
import io.kiln.microvm.vm.MicroVm;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Where function instances run: a microVM engine, or (for tests and a local development loop)
 * plain host processes. The invoker drives every engine through {@link MicroVm}; the agent
 * inside speaks the same frame protocol whichever engine carries it.
 */
public interface Engine {

    /** A short stable name: {@code kvm}, {@code qemu-kvm}, {@code qemu-tcg}, {@code process}. */
    String name();

    /** False only for the process engine: its "instances" share the host kernel and user. */
    boolean isolated();

    /** Whether its VMs run in jails (their VMMs unprivileged, in their group's namespaces and cgroup). */
    boolean jailed();

    /**
     * Whether instances are clones of a function snapshot. Without snapshots every instance
     * boots the runtime and loads the function afresh.
     */
    boolean snapshots();

    /**
     * What a snapshot taken on this engine depends on: the engine, the guest image and, where
     * guests run on the host's CPU through KVM, that CPU ({@code <engine>-<image id>[-<host CPU
     * fingerprint>]}). Snapshots are stored under this key, so a changed guest image, engine or
     * host CPU rebuilds them.
     */
    String snapshotKey();

    /** The smallest instance memory the guest image can run in. */
    int minimumMemoryMib();

    /**
     * What one VM costs the host beyond its guest memory (the VMM's own memory: QEMU's TCG
     * translation cache, device and I/O buffers), in MiB: a VM group's memory limit counts it.
     */
    int vmOverheadMib();

    /**
     * Starts a fresh runtime whose agent will send READY, as a VM of {@code group} (its jail,
     * uid and cgroup, where the engine jails its VMMs; engines without jails ignore it). With
     * {@code snapshotable} the instance can later be snapshotted (the base snapshot is taken
     * from one).
     */
    MicroVm boot(VmGroup group, int memoryMib, boolean snapshotable, Consumer<String> console) throws IOException;

    /**
     * Starts a clone of the snapshot in {@code directory}, as a VM of {@code group}. With
     * {@code snapshotable} the clone can itself be snapshotted (a function snapshot is taken
     * from a restored base).
     */
    MicroVm restore(VmGroup group, Path directory, boolean snapshotable, Consumer<String> console) throws IOException;

    /**
     * VM group {@code group} (a function, or the base builds) will soon need VMs: at deploy, at
     * adoption, at start for every stored function. An engine may start what the group's VMs
     * need now, in the background (the Java engine: the group's VMM host process), so the first
     * cold start does not wait for it. Never blocks.
     */
    default void groupNeeded(VmGroup group) {
    }

    /**
     * Where the invoker keeps this engine's snapshots (told once, before any VM): an engine whose
     * VMMs run in jails makes the directory visible in them.
     */
    default void snapshotsAt(Path directory) {
    }

    /** The group is gone (its function deleted): an engine frees what it kept for it. */
    default void groupGone(String group) {
    }
}
