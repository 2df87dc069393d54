package io.kiln.invoker.engine;

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
     * Starts a fresh runtime whose agent will send READY. With {@code snapshotable} the
     * instance can later be snapshotted (the base snapshot is taken from one).
     */
    MicroVm boot(int memoryMib, boolean snapshotable, Consumer<String> console) throws IOException;

    /**
     * Starts a clone of the snapshot in {@code directory}. With {@code snapshotable} the clone
     * can itself be snapshotted (a function snapshot is taken from a restored base).
     */
    MicroVm restore(Path directory, boolean snapshotable, Consumer<String> console) throws IOException;

    /**
     * The VM group {@code group} (a function, or {@code base}, which builds base snapshots) will
     * soon need VMs: at deploy, at adoption, at start for every stored function. An engine may
     * start what the group's VMs need now, in the background (the Java engine: its VMM host
     * process), so the first cold start does not wait for it. Never blocks.
     */
    default void groupNeeded(String group) {
    }

    /** The group is gone (its function deleted): an engine frees what it kept for it. */
    default void groupGone(String group) {
    }
}
