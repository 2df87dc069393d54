package io.kiln.invoker.snapshot;

import io.kiln.invoker.engine.Engine;
import io.kiln.invoker.instance.FunctionTemplate;
import io.kiln.invoker.instance.Instance;
import io.kiln.invoker.instance.InstanceLauncher;
import io.kiln.invoker.instance.LogSink;
import io.kiln.invoker.store.FunctionVersion;
import io.kiln.microvm.files.FileTrees;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Base and function snapshots on disk, under {@code <root>/<engine snapshot key>/}: one base
 * snapshot per instance memory size ({@code base-<MiB>m}), booted once and reused, and one
 * function snapshot per version ({@code functions/<name>/v<N>}), made from the base at deploy.
 *
 * <p>The snapshot key names the engine and the guest image, so a new image or engine starts
 * from an empty directory: snapshots are rebuilt lazily as they are needed, and those of other
 * keys are deleted at start. A snapshot is built in a {@code .partial-} directory and renamed
 * into place when complete, so a crash mid-build leaves nothing that looks usable.
 */
public final class SnapshotStore {

    private static final System.Logger LOG = System.getLogger(SnapshotStore.class.getName());
    private static final String PARTIAL = ".partial-";

    private final Path root;
    private final InstanceLauncher launcher;
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    public SnapshotStore(Path snapshotsRoot, InstanceLauncher launcher) throws IOException {
        Engine engine = launcher.engine();
        this.root = snapshotsRoot.resolve(engine.snapshotKey());
        this.launcher = launcher;
        Files.createDirectories(root);
        engine.snapshotsAt(root);
        try (Stream<Path> keys = Files.list(snapshotsRoot)) {
            for (Path other : keys.filter(p -> !p.equals(root)).toList()) {
                LOG.log(System.Logger.Level.INFO, "deleting snapshots of another engine or guest image: " + other);
                deleteTree(other);
            }
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path partial : all.filter(p -> p.getFileName().toString().contains(PARTIAL)).toList()) {
                deleteTree(partial);
            }
        }
    }

    /** The base snapshot for instances of {@code memoryMib}, booting the runtime if there is none. */
    public Path base(int memoryMib, Consumer<String> progress) {
        Path dir = root.resolve("base-" + memoryMib + "m");
        return build(dir, progress, partial -> {
            progress.accept("booting the runtime (" + launcher.engine().name() + ", " + memoryMib
                    + " MiB) for a base snapshot");
            long start = System.nanoTime();
            // In a group of its own: the base is every function's ancestor, and sees none of them.
            Instance instance = launcher.boot(launcher.groups().base(memoryMib), memoryMib, true, LogSink.NONE);
            progress.accept("runtime ready in " + (System.nanoTime() - start) / 1_000_000 + " ms; taking the base snapshot");
            instance.snapshot(partial);
        });
    }

    /** Where the function snapshot of {@code version} lives (it may not exist). */
    public Path functionSnapshot(FunctionVersion version) {
        return root.resolve("functions").resolve(version.name()).resolve("v" + version.version());
    }

    /**
     * The function snapshot of {@code template}'s version, made if missing: restore the base,
     * LOAD the jar, wait for init and priming, snapshot. Init failures throw
     * {@link io.kiln.invoker.instance.StartFailure} with the function's output.
     */
    public Path function(FunctionTemplate template, LogSink logs, Consumer<String> progress) {
        FunctionVersion v = template.version();
        Path base = base(v.config().memoryMib(), progress);
        return build(functionSnapshot(v), progress, partial -> {
            progress.accept("restoring the base snapshot and loading " + v.id());
            // In the function's own group: from here on the VM holds the function's code and data.
            Instance instance = launcher.restore(launcher.groups().function(v.name(), v.config()), base, true, logs);
            long start = System.nanoTime();
            launcher.load(instance, template);
            progress.accept("initialised in " + (System.nanoTime() - start) / 1_000_000
                    + " ms; taking the function snapshot");
            instance.snapshot(partial);
        });
    }

    /**
     * Deletes function snapshots of versions not in {@code current}: left from before a
     * restart, of versions replaced or functions deleted while the platform was down.
     */
    public void retainFunctions(List<FunctionVersion> current) {
        Set<Path> keep = current.stream().map(this::functionSnapshot).collect(Collectors.toSet());
        Path functions = root.resolve("functions");
        if (!Files.isDirectory(functions)) {
            return;
        }
        try (Stream<Path> dirs = Files.walk(functions, 2)) {
            for (Path dir : dirs.filter(p -> functions.relativize(p).getNameCount() == 2).toList()) {
                if (!keep.contains(dir)) {
                    deleteTree(dir);
                }
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not prune old function snapshots: " + e.getMessage());
        }
    }

    /** Deletes the function snapshots of {@code name} (all versions, or one). Clones already running keep theirs. */
    public void deleteFunction(String name, Long version) {
        Path dir = root.resolve("functions").resolve(name);
        deleteTree(version == null ? dir : dir.resolve("v" + version));
    }

    private interface Builder {
        void build(Path partial) throws IOException;
    }

    /** One builder per directory at a time; others wait and then find it done. */
    private Path build(Path dir, Consumer<String> progress, Builder builder) {
        synchronized (locks.computeIfAbsent(dir.toString(), k -> new Object())) {
            if (Files.isDirectory(dir)) {
                return dir;
            }
            Path partial = dir.resolveSibling(dir.getFileName() + PARTIAL + System.nanoTime());
            try {
                Files.createDirectories(dir.getParent());
                long start = System.nanoTime();
                builder.build(partial);
                Files.move(partial, dir, StandardCopyOption.ATOMIC_MOVE);
                progress.accept("snapshot " + root.relativize(dir) + " ready in "
                        + (System.nanoTime() - start) / 1_000_000 + " ms");
                return dir;
            } catch (IOException e) {
                throw new UncheckedIOException("building snapshot " + dir + " failed: " + e.getMessage(), e);
            } finally {
                deleteTree(partial);
            }
        }
    }

    private static void deleteTree(Path dir) {
        if (!FileTrees.deleteQuietly(dir)) {
            LOG.log(System.Logger.Level.WARNING, "could not delete all of " + dir);
        }
    }
}
