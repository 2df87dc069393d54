package io.kiln.microvm.jail;

import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.process.ChildProcesses;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs VMMs in jails through {@code kiln-jailer} ({@code microvm/src/main/c/kiln-jailer.c}, built
 * by {@code scripts/prepare.sh}): {@link #wrap} turns a command into the jailer's argv, which
 * {@link ChildProcesses#start} then starts like any child.
 *
 * <p>Every jail sees {@code /usr} read-only (the programs and their shared libraries, the JDK:
 * the host is merged-/usr) and the paths its {@link JailSpec} lists, at the same paths; nothing
 * else of the host.
 */
public final class Jailer {

    /** The system property naming the jailer binary ({@code ./test.sh} passes it to Maven). */
    public static final String PROPERTY = "kiln.jailer";
    /** The environment variable naming it ({@code scripts/lib.sh}'s {@code kiln_prepare} exports it). */
    public static final String ENV = "KILN_JAILER";
    /** The directory each jail mounts its root tmpfs on, in its own mount namespace. */
    public static final Path DEFAULT_ROOT = Path.of("/run/kiln/jail-root");
    /** What every jail sees read-only. */
    public static final List<Path> BASE_READ_ONLY = List.of(Path.of("/usr"));
    /** The uid and gid of the start-up probe: no function's (those start at 900000). */
    private static final int PROBE_ID = 899_999;

    private final Path binary;
    private final Path root;
    private final Cgroups cgroups;

    private Jailer(Path binary, Path root, Cgroups cgroups) {
        this.binary = binary;
        this.root = root;
        this.cgroups = cgroups;
    }

    /**
     * The jailer named by {@value #PROPERTY}, else {@value #ENV}, else the newest one
     * {@code microvm/src/main/c/build.sh} built ({@code $KILN_CACHE/jailer/current}), groups under
     * {@code kiln/}, after proving that it works here (it runs {@code /usr/bin/true} in a jail in
     * a probe cgroup).
     *
     * @throws JailUnavailableException with the reason when jails cannot work on this host
     */
    public static Jailer locate() {
        String configured = System.getProperty(PROPERTY);
        if (configured == null || configured.isBlank()) {
            configured = System.getenv(ENV);
        }
        Path binary;
        if (configured != null && !configured.isBlank()) {
            binary = Path.of(configured);
        } else {
            binary = GuestImage.cacheRoot(System.getenv()).resolve("jailer").resolve("current").resolve("kiln-jailer");
            if (!Files.exists(binary)) {
                throw new JailUnavailableException("no jailer: neither -D" + PROPERTY + " nor " + ENV + " is set, and "
                        + binary + " does not exist (scripts/prepare.sh, run by ./run.sh and ./test.sh, builds it)");
            }
        }
        return at(binary, DEFAULT_ROOT, "kiln");
    }

    /**
     * The jailer at {@code binary}, its jails' roots mounted on {@code root} (created if missing),
     * groups under {@code cgroupParent}, proven to work.
     *
     * @throws JailUnavailableException with the reason when jails cannot work on this host
     */
    public static Jailer at(Path binary, Path root, String cgroupParent) {
        if (!Files.isRegularFile(binary) || !Files.isExecutable(binary)) {
            throw new JailUnavailableException("the jailer " + binary + " is not an executable file");
        }
        long euid = effectiveUid();
        if (euid != 0) {
            throw new JailUnavailableException("jails need root (to enter namespaces, mount and switch uid); this is uid " + euid);
        }
        Cgroups cgroups = Cgroups.detect(cgroupParent);
        try {
            Files.createDirectories(root);
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new JailUnavailableException("cannot create the jails' root mount point " + root + ": " + e.getMessage(), e);
        }
        Jailer jailer = new Jailer(binary.toAbsolutePath(), root, cgroups);
        jailer.probe();
        return jailer;
    }

    /** Runs {@code /usr/bin/true} jailed in a probe group: namespaces, mounts, cgroups, uid switch. */
    private void probe() {
        String group = "probe-" + ProcessHandle.current().pid();
        JailSpec spec = new JailSpec(group, PROBE_ID, PROBE_ID, List.of(), List.of(), false, 64L << 20, 0);
        try {
            ProcessBuilder pb = new ProcessBuilder(wrap(spec, List.of("/usr/bin/true")))
                    .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Process p = ChildProcesses.start(pb);
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new JailUnavailableException("the jailer's probe did not finish in 30 s");
            }
            if (p.exitValue() != 0) {
                throw new JailUnavailableException("the jailer's probe failed (exit " + p.exitValue() + "): "
                        + new String(out, StandardCharsets.UTF_8).trim());
            }
        } catch (IOException e) {
            throw new JailUnavailableException("the jailer's probe failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JailUnavailableException("interrupted while probing the jailer", e);
        } finally {
            try {
                cgroups.remove(group);
            } catch (IOException e) {
                // A leftover empty probe cgroup costs nothing; the probe's verdict stands.
            }
        }
    }

    private static long effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new JailUnavailableException("cannot read this process's uid from /proc/self/status: " + e.getMessage(), e);
        }
        throw new JailUnavailableException("/proc/self/status has no Uid line");
    }

    /**
     * The argv that runs {@code command} in {@code spec}'s jail. Creates (or updates the limits
     * of) the group's cgroup first. Paths are resolved (the jailer takes only canonical ones);
     * every listed path must exist.
     */
    public List<String> wrap(JailSpec spec, List<String> command) throws IOException {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("no command to jail");
        }
        List<Path> cgroupDirs = cgroups.create(spec.name(), spec.memoryLimitBytes(), spec.cpuMillis());
        List<String> argv = new ArrayList<>();
        argv.add(binary.toString());
        argv.addAll(List.of("--root", root.toString(),
                "--uid", Integer.toString(spec.uid()), "--gid", Integer.toString(spec.gid())));
        for (Path dir : cgroupDirs) {
            argv.addAll(List.of("--cgroup", dir.toString()));
        }
        Set<Path> readOnly = new LinkedHashSet<>();
        for (Path p : BASE_READ_ONLY) {
            readOnly.add(p.toRealPath());
        }
        for (Path p : spec.readOnly()) {
            readOnly.add(p.toRealPath());
        }
        for (Path p : readOnly) {
            argv.addAll(List.of("--ro", p.toString()));
        }
        for (Path p : spec.readWrite()) {
            argv.addAll(List.of("--rw", p.toRealPath().toString()));
        }
        if (spec.kvm()) {
            argv.add("--kvm");
        }
        argv.add("--");
        argv.addAll(command);
        return List.copyOf(argv);
    }

    /**
     * What a JVM from this JDK needs besides {@code /usr}: the directories outside {@code /usr}
     * its files link to (on Debian the JDK's {@code conf/} and {@code lib/jvm.cfg} link into
     * {@code /etc/java-17-openjdk}; without them the JVM cannot load its security providers).
     */
    public static List<Path> javaReadOnly() throws IOException {
        Path home = Path.of(System.getProperty("java.home")).toRealPath();
        Set<Path> dirs = new java.util.TreeSet<>();
        try (var files = Files.walk(home)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isSymbolicLink(f) && Files.exists(f)) {
                    Path target = f.toRealPath();
                    if (!target.startsWith("/usr")) {
                        dirs.add(Files.isDirectory(target) ? target : target.getParent());
                    }
                }
            }
        }
        List<Path> outermost = new ArrayList<>();
        for (Path d : dirs) { // sorted: a parent comes before the directories under it
            if (outermost.stream().noneMatch(d::startsWith)) {
                outermost.add(d);
            }
        }
        return List.copyOf(outermost);
    }

    /** The group's cgroups, e.g. to remove a group when its function goes. */
    public Cgroups cgroups() {
        return cgroups;
    }

    /** The jailer binary. */
    public Path binary() {
        return binary;
    }

    /** E.g. {@code kiln-jailer at /root/.cache/kiln/jailer/ab12.../kiln-jailer, cgroup v1 (...)}. */
    public String describe() {
        return "kiln-jailer at " + binary + ", cgroup " + cgroups.describe();
    }
}
