package io.kiln.microvm.group;

import io.kiln.microvm.jail.JailSpec;
import io.kiln.microvm.jail.Jailer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;

/**
 * The VMM host processes of this node, one per VM group (a function, or {@code base}). A group's
 * process is started ahead of need ({@link #prestart}: at deploy, at adoption, at gateway start
 * for every deployed function), in the background, and kept while the group exists, so a cold
 * start never waits for a JVM to start. It cannot be a shared spare: a process is jailed for its
 * group (uid, paths, cgroup) when it starts and cannot be re-jailed for another.
 *
 * <p>A process that dies takes its VMs with it (their exits say so) and is started again: at
 * once if it had lived a while, else at the next need (so a process that cannot start does not
 * spin). {@link #stop} ends it when its group goes.
 */
public final class VmHosts implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(VmHosts.class.getName());
    /** A host process that lived this long before dying is restarted at once; a shorter life waits for a need. */
    private static final Duration RESTART_AFTER_LIFE = Duration.ofSeconds(30);

    /**
     * A group and, when jailed, its jail: what the group itself may see (guest image, its
     * snapshots), its uid and limits; the JDK, the class path and the group's work dir are added
     * here.
     */
    public record Group(String name, JailSpec jail) {
        public Group {
            if (jail != null && !jail.name().equals(name)) {
                throw new IllegalArgumentException("group " + name + " with the jail of " + jail.name());
            }
        }

        public static Group unjailed(String name) {
            return new Group(name, null);
        }
    }

    private final Path workRoot;
    private final Jailer jailer;
    private final boolean seccomp;
    /** A group's host process (being started, or started) and the group it was started for. */
    private record Running(Group group, CompletableFuture<VmHost> host, AtomicBoolean begun) {
        /** Started and alive, or still starting. */
        boolean usable() {
            return !host.isDone() || (!host.isCompletedExceptionally() && host.join().alive());
        }

        VmHost hostIfStarted() {
            return host.isDone() && !host.isCompletedExceptionally() ? host.join() : null;
        }
    }

    private final Map<String, Running> hosts = new ConcurrentHashMap<>();
    /** Starts a host process a VM is waiting for: at once, whatever else is starting. */
    private final ExecutorService starter = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "kiln-vmm-starter");
        t.setDaemon(true);
        return t;
    });
    /**
     * Starts host processes ahead of need, one at a time: at gateway start every stored function
     * wants one, and a JVM start takes a core for a second or more (a minute in the nested lab),
     * so starting them all at once would slow the ones a call is waiting for. A need overtakes.
     */
    private final ExecutorService background = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "kiln-vmm-prestarter");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean closed;

    /**
     * @param workRoot each group's work dir (its socket, JNA's temp file) is created under it
     * @param jailer   jails the groups that come with a {@link JailSpec}; null when jails are off
     * @param seccomp  whether host processes install the VMM seccomp filter (always, but for benchmarks)
     */
    public VmHosts(Path workRoot, Jailer jailer, boolean seccomp) {
        this.workRoot = workRoot.toAbsolutePath().normalize();
        this.jailer = jailer;
        this.seccomp = seccomp;
    }

    /** The group's running host process; starts one (and waits for it) if it has none or it died. */
    public VmHost host(Group group) throws IOException {
        Running r = current(group);
        starter.execute(() -> begin(r)); // overtakes a queued prestart; nothing if it has begun
        try {
            return r.host().join();
        } catch (CompletionException e) {
            hosts.remove(group.name(), r); // the next need tries again
            Throwable c = e.getCause() instanceof UncheckedIOException u ? u.getCause() : e.getCause();
            throw c instanceof IOException io ? io : new IOException("starting the VMM host process of " + group.name(), c);
        }
    }

    /** Starts the group's host process in the background unless it has a live one. */
    public void prestart(Group group) {
        current(group).host().whenComplete((h, e) -> {
            if (e != null) {
                LOG.log(System.Logger.Level.WARNING, "starting the VMM host process of " + group.name() + " ahead of need failed; "
                        + "the next VM of the group tries again: " + e.getMessage());
            }
        });
    }

    /**
     * The group's live process, or a new one. A jail's paths and uid are fixed when its process
     * starts: if the group now needs others (a new guest image, a new snapshot directory), the
     * old process is ended (its VMs with it) and a new one started. Its limits are not: a
     * changed memory or CPU limit (a redeploy with other settings) is applied to the running
     * process's cgroup.
     */
    private Running current(Group group) {
        if (closed) {
            throw new IllegalStateException("the VMM host processes are shut down");
        }
        return hosts.compute(group.name(), (name, r) -> {
            if (r != null && r.usable()) {
                if (sameJail(r.group().jail(), group.jail())) {
                    updateLimits(r.group().jail(), group.jail());
                    return new Running(group, r.host(), r.begun());
                }
                LOG.log(System.Logger.Level.INFO, "the VMM host process of " + name + " needs other paths now; replacing it");
                r.host().thenAccept(VmHost::close);
            }
            Running fresh = new Running(group, new CompletableFuture<>(), new AtomicBoolean());
            background.execute(() -> begin(fresh));
            return fresh;
        });
    }

    /** Starts {@code r}'s process unless someone already has. */
    private void begin(Running r) {
        if (!r.begun().compareAndSet(false, true)) {
            return;
        }
        try {
            r.host().complete(start(r.group()));
        } catch (RuntimeException e) {
            r.host().completeExceptionally(e);
        }
    }

    private static boolean sameJail(JailSpec a, JailSpec b) {
        if (a == null || b == null) {
            return a == b;
        }
        return a.uid() == b.uid() && a.gid() == b.gid() && a.kvm() == b.kvm() && a.readOnly().equals(b.readOnly())
                && a.readWrite().equals(b.readWrite());
    }

    private void updateLimits(JailSpec old, JailSpec now) {
        if (old == null || now == null || jailer == null
                || (old.memoryLimitBytes() == now.memoryLimitBytes() && old.cpuMillis() == now.cpuMillis())) {
            return;
        }
        try {
            jailer.cgroups().create(now.name(), now.memoryLimitBytes(), now.cpuMillis());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "updating the limits of group " + now.name() + " failed: " + e.getMessage());
        }
    }

    private VmHost start(Group group) {
        try {
            Path work = workDir(group.name());
            Files.createDirectories(work.resolve("tmp"));
            UnaryOperator<List<String>> wrap = UnaryOperator.identity();
            if (group.jail() != null) {
                if (jailer == null) {
                    throw new IOException("group " + group.name() + " asks for a jail but jails are off");
                }
                JailSpec spec = jailSpec(group.jail(), work);
                wrap = command -> {
                    try {
                        return jailer.wrap(spec, command);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                };
            }
            VmHost host = VmHost.start(group.name(), work, seccomp, wrap);
            LOG.log(System.Logger.Level.INFO, host + " ready in " + host.startMicros() / 1000 + " ms"
                    + (group.jail() == null ? " (not jailed)" : " (jailed as uid " + group.jail().uid() + ")"));
            long started = System.nanoTime();
            host.ended().thenRun(() -> ended(group, host, Duration.ofNanos(System.nanoTime() - started)));
            return host;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void ended(Group group, VmHost host, Duration lived) {
        Running r = hosts.get(group.name());
        if (r == null || r.hostIfStarted() != host || closed) {
            return; // stopped on purpose, or already replaced
        }
        LOG.log(System.Logger.Level.WARNING, host + " ended after " + lived.toSeconds() + " s" + host.endedBecause()
                + "; its VMs are lost");
        if (lived.compareTo(RESTART_AFTER_LIFE) >= 0) {
            prestart(r.group());
        }
    }

    /** The group's jail plus what its host process needs: the JVM, the class path, its work dir, /dev/kvm. */
    private static JailSpec jailSpec(JailSpec group, Path work) throws IOException {
        for (Path p : List.of(work, work.resolve("tmp"))) {
            JailSpec.handOver(p, group.uid(), group.gid());
        }
        return group.plus(VmHost.jvmReadOnly(), List.of(work.toRealPath()), true);
    }

    /** {@code workRoot/<name>}, the name shortened with a hash where the socket path would get long. */
    Path workDir(String name) {
        if (name.length() <= 24) {
            return workRoot.resolve(name);
        }
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
            return workRoot.resolve(name.substring(0, 15) + "-" + HexFormat.of().formatHex(h, 0, 4));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Ends the group's host process (its VMs with it), e.g. when its function is deleted. */
    public void stop(String name) {
        Running r = hosts.remove(name);
        if (r != null) {
            r.host().thenAccept(VmHost::close);
        }
    }

    /** The live host process of a group, if it has one now (for tests and /healthz). */
    public VmHost running(String name) {
        Running r = hosts.get(name);
        VmHost h = r == null ? null : r.hostIfStarted();
        return h != null && h.alive() ? h : null;
    }

    @Override
    public void close() {
        closed = true;
        for (String name : List.copyOf(hosts.keySet())) {
            Running r = hosts.remove(name);
            if (r != null) {
                VmHost h = r.hostIfStarted();
                if (h != null) {
                    h.close();
                } else {
                    r.host().thenAccept(VmHost::close);
                }
            }
        }
        starter.shutdown();
        background.shutdown();
    }
}
