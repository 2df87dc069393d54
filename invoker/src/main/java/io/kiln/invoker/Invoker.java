package io.kiln.invoker;

import io.kiln.invoker.call.CallDispatcher;
import io.kiln.invoker.call.Clock;
import io.kiln.invoker.call.CallException;
import io.kiln.invoker.call.IfBusy;
import io.kiln.invoker.call.CallRequest;
import io.kiln.invoker.call.CallResult;
import io.kiln.invoker.engine.Engine;
import io.kiln.invoker.engine.EngineChoice;
import io.kiln.invoker.engine.EngineSelector;
import io.kiln.invoker.engine.VmGroups;
import io.kiln.invoker.instance.FunctionTemplate;
import io.kiln.invoker.instance.Instance;
import io.kiln.invoker.instance.InstanceLauncher;
import io.kiln.invoker.instance.LogSink;
import io.kiln.invoker.logs.LogBook;
import io.kiln.invoker.pool.PoolKey;
import io.kiln.invoker.snapshot.SnapshotStore;
import io.kiln.invoker.store.FunctionConfig;
import io.kiln.invoker.store.FunctionStore;
import io.kiln.invoker.store.FunctionVersion;
import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.jail.Jailer;
import io.kiln.microvm.probe.KvmProbe;
import io.micrometer.core.instrument.MeterRegistry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The invoker: deploys functions (store, snapshot) and turns calls into results (dispatcher,
 * warm pool). One per platform; the gateway embeds it.
 */
public final class Invoker implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Invoker.class.getName());

    private final InvokerConfig config;
    private final EngineChoice choice;
    private final JailChoice jail;
    private final FunctionStore store;
    private final InstanceLauncher launcher;
    private final SnapshotStore snapshots;
    private final CallDispatcher dispatcher;
    private final InvokerMetrics metrics;
    private final LogBook logs;
    private final ExecutorService vmThreads;
    /** Runs the dispatcher's messages when a poster has run its share of them. */
    private final ExecutorService dispatcherThread;
    /** Where VMs are destroyed: off the timer, the readers and the dispatcher. */
    private final ExecutorService teardown;
    private final ScheduledExecutorService timer;
    private final Map<String, Object> deployLocks = new ConcurrentHashMap<>();
    /** Jars of deploys in progress: staged, not yet referenced by a stored version. */
    private final Set<String> staging = ConcurrentHashMap.newKeySet();

    private Invoker(InvokerConfig config, EngineChoice choice, JailChoice jail, MeterRegistry registry)
            throws IOException {
        this.config = config;
        this.choice = choice;
        this.jail = jail;
        this.store = FunctionStore.open(config.dataDir());
        this.logs = LogBook.open(config.dataDir().resolve("logs"), 2000, config.logRetention());
        this.vmThreads = Executors.newCachedThreadPool(threads("kiln-vm"));
        this.dispatcherThread = Executors.newSingleThreadExecutor(threads("kiln-dispatcher"));
        this.teardown = Executors.newCachedThreadPool(threads("kiln-teardown"));
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, threads("kiln-invoker-timer"));
        t.setRemoveOnCancelPolicy(true);
        this.timer = t;
        this.launcher = new InstanceLauncher(choice.engine(), new VmGroups(config.dataDir().resolve("jail").resolve("uids"),
                choice.engine().vmOverheadMib(), Runtime.getRuntime().availableProcessors()), timer, teardown,
                config.bootTimeout(), config.restoreTimeout());
        this.snapshots = choice.engine().snapshots()
                ? new SnapshotStore(config.dataDir().resolve("snapshots"), launcher) : null;
        this.dispatcher = new CallDispatcher(config.memoryBudgetMib(), this::startInstance, vmThreads,
                dispatcherThread, Clock.system(timer), config.queueLimit(), config.queueTimeout(), new Forward(),
                this::retired);
        this.metrics = new InvokerMetrics(registry, dispatcher);
    }

    /** The dispatcher's events go to the metrics, which need the dispatcher to exist first. */
    private final class Forward implements CallDispatcher.Events {
        @Override
        public void started(String function, boolean cold, long startUs) {
            metrics.started(function, cold, startUs);
        }

        @Override
        public void answered(String function, long invokeUs) {
            metrics.answered(function, invokeUs);
        }
    }

    /** Chooses the engine (probe or configuration), opens the store and activates every stored function. */
    public static Invoker start(InvokerConfig config, MeterRegistry registry) throws IOException {
        Files.createDirectories(config.dataDir());
        JailChoice jail = JailChoice.resolve(config.jail(), config.engine(), Jailer::locate);
        EngineChoice choice = EngineSelector.choose(config.engine(), KvmProbe.probeHost(), GuestImage::locate,
                config.agentJar(), config.dataDir().resolve("work"), jail.jailer());
        if (jail.enabled() && !choice.engine().jailed()) {
            if (config.jail().equals("on")) {
                throw new IllegalArgumentException("--jail on, but engine " + choice.engine().name()
                        + " does not run its VMs in jails");
            }
            jail = new JailChoice(java.util.Optional.empty(), config.jail(), null,
                    "auto: off, engine " + choice.engine().name() + " does not run its VMs in jails");
        }
        LOG.log(System.Logger.Level.INFO, "engine: " + choice.engine() + " — " + choice.reason());
        LOG.log(System.Logger.Level.INFO, "jails: " + (jail.enabled() ? "on" : "off") + " — " + jail.why());
        Invoker invoker = new Invoker(config, choice, jail, registry);
        invoker.activateStored();
        return invoker;
    }

    private void activateStored() {
        List<FunctionVersion> current = store.list();
        if (snapshots != null) {
            snapshots.retainFunctions(current);
        }
        for (FunctionVersion v : current) {
            choice.engine().groupNeeded(launcher.groups().function(v.name(), v.config()));
            dispatcher.activate(template(v), logs.sink(v.name(), v.version()), null);
        }
        LOG.log(System.Logger.Level.INFO, "activated " + current.size() + " stored functions");
    }

    private FunctionTemplate template(FunctionVersion v) {
        return new FunctionTemplate(v, store.jar(v), snapshots == null ? null : snapshots.functionSnapshot(v));
    }

    public EngineChoice engine() {
        return choice;
    }

    /** Whether VMs run in jails, and why. */
    public JailChoice jail() {
        return jail;
    }

    public InvokerConfig config() {
        return config;
    }

    // ---- deploy ------------------------------------------------------------------------

    /**
     * Stores and prepares a new version of {@code name} and makes it current: the jar is
     * stored, the function initialised and snapshotted (or, on the process engine, loaded into
     * its first instance). Blocks until the version serves. Throws
     * {@link IllegalArgumentException} for a refused name, config or jar, and
     * {@link io.kiln.invoker.instance.StartFailure} (with the function's output) when its init
     * fails; the previous version then stays current.
     */
    public FunctionVersion deploy(String name, InputStream jar, FunctionConfig config, Consumer<String> progress)
            throws IOException {
        return deploy(name, jar, config, progress, Publisher.NONE);
    }

    /**
     * Told of a deploy's version once it has initialised (its snapshot built, or its first
     * instance loaded) and before this node stores it: a cluster publishes it to the shared
     * catalog here. Whatever it throws fails the deploy, and nothing of the version is kept.
     */
    @FunctionalInterface
    public interface Publisher {
        Publisher NONE = (v, jar) -> { };

        /**
         * @param v   the version about to be committed
         * @param jar its jar in this node's store, to read
         */
        void publish(FunctionVersion v, Path jar) throws Exception;
    }

    /** Where {@link #install} gets a jar this node does not have. */
    @FunctionalInterface
    public interface JarSource {
        InputStream open() throws IOException;
    }

    /**
     * {@link #deploy(String, InputStream, FunctionConfig, Consumer)} with a {@link Publisher}
     * called between the function's init and the local commit. If it throws, the deploy fails
     * with that exception (a checked one other than {@link IOException} wrapped in an
     * {@link IOException}), the deploy's instance is destroyed and its snapshot deleted, and
     * the previous version stays current.
     */
    public FunctionVersion deploy(String name, InputStream jar, FunctionConfig config, Consumer<String> progress,
                                  Publisher publisher) throws IOException {
        FunctionStore.checkName(name);
        Engine engine = choice.engine();
        if (config.memoryMib() < engine.minimumMemoryMib()) {
            throw new IllegalArgumentException("memoryMib must be at least " + engine.minimumMemoryMib()
                    + " on the " + engine.name() + " engine (the guest image needs it), got " + config.memoryMib());
        }
        if (config.memoryMib() > this.config.memoryBudgetMib()) {
            throw new IllegalArgumentException("memoryMib " + config.memoryMib() + " is more than the platform's "
                    + "whole memory budget of " + this.config.memoryBudgetMib() + " MiB");
        }
        // While the jar arrives, the engine gets ready for the function's first VM.
        engine.groupNeeded(launcher.groups().base(config.memoryMib()));
        engine.groupNeeded(launcher.groups().function(name, config));
        progress.accept("receiving the jar");
        FunctionStore.StagedJar staged = store.stage(jar);
        staging.add(staged.sha256());
        try {
            progress.accept("stored jar sha256:" + staged.sha256() + " (" + staged.size() + " bytes)");
            synchronized (deployLocks.computeIfAbsent(name, k -> new Object())) {
                FunctionVersion v = store.prepare(name, staged, config);
                FunctionTemplate template = template(v);
                LogSink sink = logs.sink(name, v.version());
                long start = System.nanoTime();
                Instance warm = null;
                if (snapshots != null) {
                    snapshots.function(template, sink, progress);
                } else {
                    progress.accept("starting an agent process and loading " + v.id());
                    warm = launcher.start(template, sink);
                }
                publish(publisher, v, warm);
                store.commit(v);
                dispatcher.activate(template, sink, warm);
                progress.accept("version " + v.version() + " of " + name + " is ready ("
                        + (System.nanoTime() - start) / 1_000_000 + " ms to initialise and snapshot)");
                LOG.log(System.Logger.Level.INFO, "deployed " + v.id() + " (" + config.handler() + ")");
                return v;
            }
        } finally {
            staging.remove(staged.sha256());
            collectGarbage();
        }
    }

    private void publish(Publisher publisher, FunctionVersion v, Instance warm) throws IOException {
        try {
            publisher.publish(v, store.jar(v));
        } catch (Exception e) {
            // Nothing of the version may stay: its number may be another node's next version,
            // whose snapshot must not be mistaken for this one's.
            if (warm != null) {
                warm.destroy("the deploy of " + v.id() + " was not published");
            }
            if (snapshots != null) {
                snapshots.deleteFunction(v.name(), v.version());
            }
            if (e instanceof IOException io) {
                throw io;
            }
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException("publishing " + v.id() + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Adopts a version committed elsewhere (another node of a cluster) and makes it current:
     * its jar is fetched from {@code jar} unless this node has it (and must hash to the
     * version's SHA-256), the version is stored with its own number, and calls go to it. No
     * snapshot is built here: the first cold start builds it (on the process engine, starts
     * an instance), so a deploy does not wait for every node, and a node that joins later takes
     * the same path.
     *
     * @return false if this node has the version already
     * @throws IllegalStateException    if this node's current version is not below {@code v}'s
     * @throws IllegalArgumentException if the jar fetched is not the version's
     */
    public boolean install(FunctionVersion v, JarSource jar) throws IOException {
        String name = v.name();
        synchronized (deployLocks.computeIfAbsent(name, k -> new Object())) {
            Optional<FunctionVersion> current = store.current(name);
            if (current.isPresent() && current.get().version() == v.version()
                    && current.get().jarSha256().equals(v.jarSha256())) {
                return false;
            }
            boolean fetch;
            synchronized (staging) {
                // Protected from collection before it is looked at, so it cannot go in between.
                staging.add(v.jarSha256());
                fetch = !store.hasJar(v.jarSha256());
            }
            try {
                if (fetch) {
                    FunctionStore.StagedJar staged;
                    try (InputStream in = jar.open()) {
                        staged = store.stage(in);
                    }
                    if (!staged.sha256().equals(v.jarSha256()) || staged.size() != v.jarSize()) {
                        throw new IllegalArgumentException("the jar fetched for " + v.id() + " is sha256:"
                                + staged.sha256() + " (" + staged.size() + " bytes), not sha256:" + v.jarSha256());
                    }
                }
                store.adopt(v);
                choice.engine().groupNeeded(launcher.groups().function(name, v.config()));
                if (snapshots != null) {
                    // One of an earlier function of this name with the same number would be wrong.
                    snapshots.deleteFunction(name, v.version());
                }
                dispatcher.activate(template(v), logs.sink(name, v.version()), null);
                LOG.log(System.Logger.Level.INFO, "installed " + v.id() + " (" + v.config().handler()
                        + "); its snapshot is built at its first cold start");
                return true;
            } finally {
                staging.remove(v.jarSha256());
                collectGarbage();
            }
        }
    }

    /** Deletes a function: waiting calls fail, calls in flight finish. False if there is none. */
    public boolean delete(String name) throws IOException {
        synchronized (deployLocks.computeIfAbsent(name, k -> new Object())) {
            boolean existed = store.delete(name);
            dispatcher.deactivate(name);
            choice.engine().groupGone(name);
            logs.clear(name);
            collectGarbage();
            return existed;
        }
    }

    private void collectGarbage() {
        try {
            // Under the set's lock: an install that finds its jar stored has protected it first.
            synchronized (staging) {
                store.collectGarbage(Set.copyOf(staging));
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "collecting unused jars failed: " + e.getMessage());
        }
    }

    /** Called when an old version has no instance left: its snapshot is no longer needed. */
    private void retired(PoolKey key) {
        if (snapshots != null && store.current(key.function()).map(v -> v.version() != key.version()).orElse(true)) {
            snapshots.deleteFunction(key.function(), key.version());
        }
        if (jail.enabled() && store.current(key.function()).isEmpty()) {
            // The deleted function's last VM is gone: so goes its cgroup (its uid stays reserved).
            try {
                jail.jailer().get().cgroups().remove(key.function());
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "removing the cgroup of deleted function " + key.function()
                        + " failed: " + e.getMessage());
            }
        }
    }

    /** The dispatcher's starter: a missing function snapshot (new guest image) is built first. */
    private Instance startInstance(FunctionTemplate template, LogSink sink) {
        if (template.snapshot() != null && !Files.isDirectory(template.snapshot())) {
            LOG.log(System.Logger.Level.INFO, "no snapshot of " + template.version().id() + " for "
                    + choice.engine().snapshotKey() + "; building it");
            snapshots.function(template, sink, line -> LOG.log(System.Logger.Level.INFO, line));
        }
        return launcher.start(template, sink);
    }

    // ---- calls -------------------------------------------------------------------------

    /** Calls the current version of {@code function}; fails with {@link CallException}. */
    public CompletableFuture<CallResult> invoke(String function, CallRequest request) {
        return invoke(function, request, IfBusy.QUEUE);
    }

    /**
     * As {@link #invoke(String, CallRequest)}; with {@link IfBusy#REFUSE} a call that would wait
     * for an instance fails at once with {@code at_capacity} (a node then sends it to the next).
     */
    public CompletableFuture<CallResult> invoke(String function, CallRequest request, IfBusy ifBusy) {
        return dispatcher.submit(function, request, ifBusy).whenComplete((r, e) -> metrics.outcome(function,
                e == null ? "ok" : CallException.codeOf(e)));
    }

    // ---- state -------------------------------------------------------------------------

    public List<FunctionVersion> list() {
        return store.list();
    }

    public Optional<FunctionVersion> current(String name) {
        return store.current(name);
    }

    public List<FunctionVersion> versions(String name) {
        return store.versions(name);
    }

    /** Where a stored version's jar is on this node (a cluster's first node publishes its functions from there). */
    public Path jar(FunctionVersion v) {
        return store.jar(v);
    }

    /** The function's live numbers, or null if it is not deployed. */
    public CallDispatcher.FunctionState state(String name) {
        return dispatcher.state(name);
    }

    public CallDispatcher.PoolState poolState() {
        return dispatcher.poolState();
    }

    public LogBook logs() {
        return logs;
    }

    /** Stops admitting calls, lets calls in flight finish for up to {@code drain}, destroys every instance. */
    public void shutdown(Duration drain) {
        dispatcher.shutdown(drain);
        vmThreads.shutdown();
        try {
            if (!vmThreads.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "VM threads still busy after 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        dispatcherThread.shutdown();
        teardown.shutdown();
        timer.shutdownNow();
        logs.close(); // writes the lines still queued
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
