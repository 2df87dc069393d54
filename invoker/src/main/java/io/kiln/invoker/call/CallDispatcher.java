package io.kiln.invoker.call;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Ticker;
import io.kiln.invoker.instance.AgentError;
import io.kiln.invoker.instance.FunctionTemplate;
import io.kiln.invoker.instance.Instance;
import io.kiln.invoker.instance.InstanceFailure;
import io.kiln.invoker.instance.LogSink;
import io.kiln.invoker.instance.StartFailure;
import io.kiln.invoker.pool.PoolKey;
import io.kiln.invoker.pool.PooledInstance;
import io.kiln.invoker.pool.WarmPool;
import io.kiln.invoker.store.FunctionConfig;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.Frame;
import io.kiln.protocol.InvokeFrame;
import io.kiln.protocol.ResultFrame;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Turns calls into answers from instances: admission, queueing, the warm pool, cold starts,
 * and what happens to an instance after each call.
 *
 * <p>Every function has a bounded queue of calls waiting for dispatch and a limit on calls in
 * flight. {@link #pump} dispatches: round-robin over the functions with waiting calls, one call
 * per function per round, so a hot function cannot starve the others of instances or memory.
 * A call takes an idle instance of the function's current version if there is one (warm),
 * else reserves memory for a new one and starts it (cold), else waits. One call per instance
 * at a time. After a call the instance goes back idle if the answer leaves it clean; after a
 * timeout, a crash, a protocol violation or any agent error that is not "serving", it is
 * destroyed.
 *
 * <p>All state is guarded by one lock; nothing slow happens under it. Starting and destroying
 * VMs runs on {@code vmThreads}; answers arrive on the instances' reader threads.
 */
public final class CallDispatcher implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(CallDispatcher.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The agent reports a timeout itself at the deadline; the host waits this much longer. */
    static final Duration HOST_GRACE = Duration.ofSeconds(2);
    /** After a failed start for a function's minimum, wait this long before trying again. */
    private static final Duration MIN_RETRY = Duration.ofSeconds(30);

    /** Starts a ready instance of a template; the invoker's launcher, which may build a missing snapshot first. */
    public interface Starter {
        Instance start(FunctionTemplate template, LogSink logs);
    }

    /** Hooks for metrics. */
    public interface Events {
        /** An instance was taken for a call: warm from the pool, or cold after {@code startUs}. */
        void started(String function, boolean cold, long startUs);

        /** An instance answered (a result or an error) after {@code invokeUs}. */

        void answered(String function, long invokeUs);

        Events NONE = new Events() {
            @Override
            public void started(String function, boolean cold, long startUs) {
            }

            @Override
            public void answered(String function, long invokeUs) {
            }
        };
    }

    private final class Waiting {
        final CallRequest request;
        final Runnable onDispatch;
        final CompletableFuture<CallResult> result = new CompletableFuture<>();
        final long admittedNanos = System.nanoTime();
        ScheduledFuture<?> queueTimer;

        Waiting(CallRequest request, Runnable onDispatch) {
            this.request = request;
            this.onDispatch = onDispatch;
        }

        /** On a VM thread, outside the lock: the call left the queue for an instance. */
        void dispatched() {
            if (onDispatch != null) {
                try {
                    onDispatch.run();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "a dispatch callback failed: " + e);
                }
            }
        }
    }

    /** A function as the dispatcher sees it: its current version, limits, queue and counts. */
    private static final class Slot {
        final String name;
        FunctionTemplate template;
        PoolKey key;
        LogSink logs;
        boolean deleted;
        int inFlight;
        final ArrayDeque<Waiting> queue = new ArrayDeque<>();
        long minRetryAfterNanos;

        Slot(String name) {
            this.name = name;
        }

        FunctionConfig config() {
            return template.version().config();
        }
    }

    private final Object lock = new Object();
    private final Map<String, Slot> slots = new LinkedHashMap<>();
    /** Instances alive per key: starting, busy, idle. Maintained under the lock. */
    private final Map<PoolKey, Integer> live = new HashMap<>();
    private final WarmPool pool;
    private final Starter starter;
    private final ExecutorService vmThreads;
    private final ScheduledExecutorService timer;
    private final Duration queueTimeout;
    private final int queueLimit;
    private final Events events;
    private final Consumer<PoolKey> retired;
    /** Every instance alive, busy or not: what shutdown must not leave behind. */
    private final Set<Instance> everyInstance = new HashSet<>();
    private int roundRobin;
    private boolean pumping;
    private boolean pumpAgain;
    private boolean closed;
    /** Set once shutdown has destroyed every instance: one that finishes starting later goes at once. */
    private boolean closedForGood;

    /**
     * @param queueLimit   calls that may wait per function; one more is refused (429)
     * @param queueTimeout how long a call may wait for an instance before it is refused (503)
     * @param retired      called, outside the lock, when an old version has no instance left:
     *                     its snapshot may go
     */
    public CallDispatcher(long memoryBudgetMib, Starter starter, ExecutorService vmThreads,
                          ScheduledExecutorService timer, ExecutorService poolEvents, int queueLimit,
                          Duration queueTimeout, Events events, Consumer<PoolKey> retired) {
        this.starter = starter;
        this.vmThreads = vmThreads;
        this.timer = timer;
        this.queueLimit = queueLimit;
        this.queueTimeout = queueTimeout;
        this.events = events;
        this.retired = retired;
        this.pool = new WarmPool(memoryBudgetMib, poolEvents, Ticker.systemTicker(), this::evicted);
    }

    // ---- functions ---------------------------------------------------------------------

    /**
     * Makes {@code template} the version new calls of its function get. Idle instances of an
     * older version are destroyed; busy ones finish their call and are destroyed then.
     * {@code warm}, if not null, is a ready instance of the new version (the process engine's
     * deploy makes one) and joins the pool.
     */
    public void activate(FunctionTemplate template, LogSink logs, Instance warm) {
        List<PooledInstance> stale;
        PoolKey old;
        boolean warmKept = false;
        synchronized (lock) {
            Slot slot = slots.computeIfAbsent(template.version().name(), Slot::new);
            old = slot.key;
            slot.template = template;
            slot.key = new PoolKey(template.version().name(), template.version().version());
            slot.logs = logs;
            slot.deleted = false;
            slot.minRetryAfterNanos = 0;
            stale = old == null || old.equals(slot.key) ? List.of() : pool.drain(old);
            for (PooledInstance p : stale) {
                decrementLive(p.key());
            }
            if (warm != null) {
                int mib = template.version().config().memoryMib();
                if (pool.reserve(mib)) {
                    incrementLive(slot.key);
                    warmKept = idle(slot, watch(new PooledInstance(slot.key, warm, mib)));
                }
            }
            pump();
        }
        if (warm != null && !warmKept) {
            warm.destroy("no room for it in the pool (memory budget, or zero keep-alive)");
        }
        destroyAll(stale, "version replaced");
        retireIfUnused(old);
    }

    /**
     * Forgets a deleted function: waiting calls fail with {@code not_found}, idle instances are
     * destroyed, calls in flight finish normally.
     */
    public void deactivate(String name) {
        List<Waiting> dropped;
        List<PooledInstance> idle;
        PoolKey key;
        synchronized (lock) {
            Slot slot = slots.get(name);
            if (slot == null) {
                return;
            }
            slot.deleted = true;
            key = slot.key;
            dropped = new ArrayList<>(slot.queue);
            slot.queue.clear();
            idle = pool.drain(slot.key);
            for (PooledInstance p : idle) {
                decrementLive(p.key());
            }
            if (slot.inFlight == 0) {
                slots.remove(name);
            }
            pump();
        }
        for (Waiting w : dropped) {
            fail(w, new CallException(w.request.callId(), CallException.Codes.NOT_FOUND, "function " + name
                    + " was deleted while the call waited", null, null));
        }
        destroyAll(idle, "function deleted");
        retireIfUnused(key);
    }

    // ---- calls -------------------------------------------------------------------------

    /** Admits a call, or fails it at once with {@code not_found} or {@code too_many_requests}. */
    public CompletableFuture<CallResult> submit(String function, CallRequest request) {
        return submit(function, request, null);
    }

    /**
     * As {@link #submit(String, CallRequest)}; {@code onDispatch}, if not null, runs once when the
     * call leaves the queue for an instance (warm, or before its cold start), on a VM thread. It
     * must be quick; it never runs for a call refused or timed out in the queue.
     */
    public CompletableFuture<CallResult> submit(String function, CallRequest request, Runnable onDispatch) {
        Waiting w = new Waiting(request, onDispatch);
        synchronized (lock) {
            Slot slot = slots.get(function);
            if (closed) {
                fail(w, new CallException(request.callId(), CallException.Codes.SHUTTING_DOWN,
                        "the platform is shutting down", null, Duration.ofSeconds(5)));
                return w.result;
            }
            if (slot == null || slot.deleted) {
                fail(w, new CallException(request.callId(), CallException.Codes.NOT_FOUND, "no function named "
                        + function, null, null));
                return w.result;
            }
            if (slot.queue.size() >= queueLimit) {
                fail(w, new CallException(request.callId(), CallException.Codes.QUEUE_FULL, "function " + function
                        + " has " + slot.inFlight + " calls in flight (its limit is "
                        + slot.config().maxConcurrency() + ") and " + slot.queue.size()
                        + " waiting, the most allowed; try again later", null, Duration.ofSeconds(1)));
                return w.result;
            }
            slot.queue.addLast(w);
            w.queueTimer = timer.schedule(() -> queueTimedOut(slot, w), queueTimeout.toNanos(), TimeUnit.NANOSECONDS);
            pump();
        }
        return w.result;
    }

    private void queueTimedOut(Slot slot, Waiting w) {
        int inFlight;
        synchronized (lock) {
            if (!slot.queue.remove(w)) {
                return; // dispatched meanwhile
            }
            inFlight = slot.inFlight;
        }
        fail(w, new CallException(w.request.callId(), CallException.Codes.QUEUE_TIMEOUT, "no instance of "
                + slot.name + " became free within " + queueTimeout.toMillis() + " ms (calls in flight "
                + inFlight + ", memory budget " + pool.budgetMib() + " MiB); try again later", null,
                Duration.ofSeconds(1)));
    }

    /** Dispatches what can be dispatched. Re-entrant calls (from eviction) fold into the running one. */
    private void pump() {
        if (pumping) {
            pumpAgain = true;
            return;
        }
        pumping = true;
        try {
            do {
                pumpAgain = false;
                List<Slot> order = new ArrayList<>(slots.values());
                boolean progress = true;
                while (progress && !order.isEmpty()) {
                    progress = false;
                    int n = order.size();
                    int first = Math.floorMod(roundRobin++, n);
                    for (int i = 0; i < n; i++) {
                        Slot slot = order.get((first + i) % n);
                        if (!slot.queue.isEmpty() && dispatchOne(slot)) {
                            progress = true;
                        }
                    }
                }
                for (Slot slot : order) {
                    keepMinimum(slot);
                }
            } while (pumpAgain);
        } finally {
            pumping = false;
        }
    }

    private boolean dispatchOne(Slot slot) {
        FunctionConfig config = slot.config();
        if (slot.deleted || slot.inFlight >= config.maxConcurrency()) {
            return false;
        }
        PooledInstance warm = pool.take(slot.key);
        if (warm != null) {
            Waiting w = slot.queue.pollFirst();
            slot.inFlight++;
            w.queueTimer.cancel(false);
            vmThreads.execute(() -> {
                w.dispatched();
                invoke(slot, w, warm, config, false, 0);
            });
            return true;
        }
        int mib = config.memoryMib();
        if (liveCount(slot.key) >= config.maxInstances() || !pool.reserve(mib)) {
            return false;
        }
        Waiting w = slot.queue.pollFirst();
        slot.inFlight++;
        w.queueTimer.cancel(false);
        incrementLive(slot.key);
        FunctionTemplate template = slot.template;
        LogSink logs = slot.logs;
        PoolKey key = slot.key;
        vmThreads.execute(() -> coldStart(slot, w, template, logs, key, mib));
        return true;
    }

    private void coldStart(Slot slot, Waiting w, FunctionTemplate template, LogSink logs, PoolKey key, int mib) {
        w.dispatched();
        long start = System.nanoTime();
        Instance instance;
        try {
            instance = starter.start(template, logs);
        } catch (RuntimeException e) {
            synchronized (lock) {
                slot.inFlight--;
                giveBack(key, mib);
                pump();
            }
            String output = e instanceof StartFailure f ? f.output() : "";
            String code = e instanceof StartFailure f ? f.code() : "start_failed";
            ObjectNode details = JSON.createObjectNode().put("startCode", code).put("output", output);
            fail(w, new CallException(w.request.callId(), CallException.Codes.START_FAILED, "starting an instance of "
                    + key + " failed: " + e.getMessage(), details, Duration.ofSeconds(1)));
            LOG.log(System.Logger.Level.WARNING, "cold start of " + key + " failed: " + e.getMessage());
            retireIfUnused(key);
            return;
        }
        long startUs = (System.nanoTime() - start) / 1000;
        events.started(slot.name, true, startUs);
        invoke(slot, w, watch(new PooledInstance(key, instance, mib)), template.version().config(), true, startUs);
    }

    private void invoke(Slot slot, Waiting w, PooledInstance p, FunctionConfig config, boolean cold, long startUs) {
        if (!cold) {
            events.started(slot.name, false, 0);
        }
        CallRequest r = w.request;
        Duration timeout = callTimeout(r, config.timeout());
        ObjectNode meta = JSON.createObjectNode().put("timeoutMs", timeout.toMillis());
        if (r.http() != null) {
            meta.set("http", r.http());
        }
        long queuedUs = (System.nanoTime() - w.admittedNanos) / 1000 - startUs;
        long sent = System.nanoTime();
        p.instance().send(new InvokeFrame(r.callId(), meta.toString(), r.body()), timeout.plus(HOST_GRACE))
                .whenComplete((frame, error) -> answered(slot, w, p, frame, error,
                        new CallTimings(cold, Math.max(0, queuedUs), startUs, (System.nanoTime() - sent) / 1000)));
    }

    /** A request's timeout: its own if set and shorter, else the function's. */
    private static Duration callTimeout(CallRequest r, Duration functionTimeout) {
        return r.timeout() != null && r.timeout().compareTo(functionTimeout) < 0 ? r.timeout() : functionTimeout;
    }

    /**
     * The instance goes back (or is destroyed) before the caller hears the answer, so that a
     * caller's next call finds it idle.
     */
    private void answered(Slot slot, Waiting w, PooledInstance p, Frame frame, Throwable error, CallTimings t) {
        long callId = w.request.callId();
        events.answered(slot.name, t.invokeUs());
        if (frame instanceof ResultFrame result) {
            release(slot, p, p.instance().alive());
            w.result.complete(new CallResult(callId, p.key().function(), p.key().version(), result.body(),
                    metadata(result.metadata()), t));
        } else if (frame instanceof ErrorFrame errorFrame) {
            AgentError agent = AgentError.of(errorFrame);
            if (!agent.instanceReusable()) {
                p.instance().destroy("the agent answered " + agent.code());
            }
            release(slot, p, agent.instanceReusable() && p.instance().alive());
            fail(w, new CallException(callId, agent.code(), agent.message(), agent.details(), null));
        } else {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (!(cause instanceof InstanceFailure)) {
                p.instance().destroy("the call failed: " + cause);
            }
            release(slot, p, false);
            fail(w, failure(callId, p, cause));
        }
    }

    /** What the caller hears when the instance failed (it is destroyed by then). */
    private static CallException failure(long callId, PooledInstance p, Throwable cause) {
        if (cause instanceof InstanceFailure f) {
            String code = switch (f.kind()) {
                case TIMEOUT -> CallException.Codes.TIMEOUT;
                case PROTOCOL -> CallException.Codes.PROTOCOL;
                case CRASHED, DESTROYED -> CallException.Codes.CRASHED;
            };
            ObjectNode details = f.consoleTail().isEmpty() ? null
                    : JSON.createObjectNode().put("console", f.consoleTail());
            return new CallException(callId, code, "call " + CallRequest.format(callId) + " to " + p.key() + ": "
                    + f.getMessage() + "; the instance was destroyed", details, null);
        }
        return new CallException(callId, CallException.Codes.CRASHED, "call " + CallRequest.format(callId)
                + " failed: " + cause, null, null);
    }

    private static ObjectNode metadata(String json) {
        try {
            return json.isEmpty() ? JSON.createObjectNode() : (ObjectNode) JSON.readTree(json);
        } catch (IOException | ClassCastException e) {
            return JSON.createObjectNode(); // the agent writes objects; anything else is dropped
        }
    }

    /** After a call: back to idle if clean and still current, else destroyed. */
    private void release(Slot slot, PooledInstance p, boolean reusable) {
        boolean destroy;
        synchronized (lock) {
            slot.inFlight--;
            destroy = !keep(slot, p, reusable);
            if (slot.deleted && slot.inFlight == 0 && slots.get(slot.name) == slot) {
                slots.remove(slot.name);
            }
            pump();
        }
        if (destroy) {
            drop(p, reusable ? "keep-alive is zero" : "not reusable after its call");
        }
    }

    /**
     * Under the lock: a ready instance goes idle if {@code reusable} and its version is still
     * current; otherwise its memory and count are given back. False if it must be destroyed.
     */
    private boolean keep(Slot slot, PooledInstance p, boolean reusable) {
        boolean current = !slot.deleted && p.key().equals(slot.key) && !closed;
        if (reusable && current) {
            return idle(slot, p);
        }
        giveBack(p.key(), p.memoryMib());
        return false;
    }

    /** Under the lock: an instance that is gone, or never came, no longer holds memory or counts. */
    private void giveBack(PoolKey key, int mib) {
        pool.unreserve(mib);
        decrementLive(key);
    }

    /** Puts a reserved instance idle; false if it must be destroyed instead (zero keep-alive). */
    private boolean idle(Slot slot, PooledInstance p) {
        FunctionConfig config = slot.config();
        boolean pin = pool.pinnedCount(slot.key) < config.minInstances();
        if (pool.putIdle(p, pin, config.keepAlive())) {
            return true;
        }
        decrementLive(p.key()); // putIdle already gave its memory back
        return false;
    }

    /** Keeps a function's minimum of instances, started in the background as memory allows. */
    private void keepMinimum(Slot slot) {
        if (slot.deleted || closed || System.nanoTime() < slot.minRetryAfterNanos) {
            return;
        }
        FunctionConfig config = slot.config();
        while (liveCount(slot.key) < config.minInstances() && pool.reserve(config.memoryMib())) {
            incrementLive(slot.key);
            FunctionTemplate template = slot.template;
            LogSink logs = slot.logs;
            PoolKey key = slot.key;
            vmThreads.execute(() -> warmUp(slot, template, logs, key, config.memoryMib()));
        }
    }

    private void warmUp(Slot slot, FunctionTemplate template, LogSink logs, PoolKey key, int mib) {
        Instance instance;
        long start = System.nanoTime();
        try {
            instance = starter.start(template, logs);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "starting a minimum instance of " + key + " failed, retrying in "
                    + MIN_RETRY.toSeconds() + " s: " + e.getMessage());
            synchronized (lock) {
                giveBack(key, mib);
                slot.minRetryAfterNanos = System.nanoTime() + MIN_RETRY.toNanos();
                timer.schedule(this::pumpLocked, MIN_RETRY.toNanos(), TimeUnit.NANOSECONDS);
                pump();
            }
            retireIfUnused(key);
            return;
        }
        LOG.log(System.Logger.Level.INFO, "minimum instance of " + key + " ready in "
                + (System.nanoTime() - start) / 1_000_000 + " ms");
        PooledInstance p = watch(new PooledInstance(key, instance, mib));
        boolean destroy;
        synchronized (lock) {
            destroy = !keep(slot, p, true);
            pump();
        }
        if (destroy) {
            drop(p, "warmed for a version no longer current");
        }
    }

    private void pumpLocked() {
        synchronized (lock) {
            pump();
        }
    }

    /** An idle instance that dies on its own (its VM crashed) leaves the pool. */
    private PooledInstance watch(PooledInstance p) {
        boolean lateForShutdown;
        synchronized (lock) {
            everyInstance.add(p.instance());
            lateForShutdown = closedForGood;
        }
        if (lateForShutdown) {
            p.instance().destroy("the platform shut down while it started");
        }
        p.instance().exit().thenRun(() -> {
            boolean removed;
            synchronized (lock) {
                everyInstance.remove(p.instance());
                removed = pool.removeDead(p);
                if (removed) {
                    decrementLive(p.key());
                    pump();
                }
            }
            if (removed) {
                LOG.log(System.Logger.Level.WARNING, "idle " + p.instance() + " of " + p.key() + " stopped on its own");
                retireIfUnused(p.key());
            }
        });
        return p;
    }

    /** Caffeine's removal callback, on the pool-events thread: an idle instance was evicted or expired. */
    private void evicted(PooledInstance p) {
        synchronized (lock) {
            pool.forget(p);
            decrementLive(p.key());
            pump();
        }
        drop(p, "evicted from the warm pool (memory or keep-alive)");
    }

    private void destroyAll(List<PooledInstance> instances, String why) {
        for (PooledInstance p : instances) {
            destroyLater(p, why);
        }
    }

    private void destroyLater(PooledInstance p, String why) {
        vmThreads.execute(() -> p.instance().destroy(why));
    }

    /** Outside the lock: destroys an instance the pool has let go of; its old version may retire. */
    private void drop(PooledInstance p, String why) {
        destroyLater(p, why);
        retireIfUnused(p.key());
    }

    private void retireIfUnused(PoolKey key) {
        if (key == null) {
            return;
        }
        boolean unused;
        synchronized (lock) {
            Slot slot = slots.get(key.function());
            boolean current = slot != null && !slot.deleted && key.equals(slot.key);
            unused = !current && liveCount(key) == 0;
        }
        if (unused) {
            retired.accept(key);
        }
    }

    private int liveCount(PoolKey key) {
        return live.getOrDefault(key, 0);
    }

    private void incrementLive(PoolKey key) {
        live.merge(key, 1, Integer::sum);
    }

    private void decrementLive(PoolKey key) {
        live.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
    }

    private static void fail(Waiting w, CallException e) {
        if (w.queueTimer != null) {
            w.queueTimer.cancel(false);
        }
        w.result.completeExceptionally(e);
    }

    // ---- state -------------------------------------------------------------------------

    /** A function's numbers right now. */
    public record FunctionState(String name, long version, int inFlight, int queued, int live, int pinnedIdle,
                                int cachedIdle) {
    }

    /** The pool as a whole right now. */
    public record PoolState(long budgetMib, long reservedMib, long idleMib, int liveInstances, int queued,
                            int inFlight) {
    }

    public FunctionState state(String function) {
        synchronized (lock) {
            Slot slot = slots.get(function);
            if (slot == null || slot.deleted) {
                return null;
            }
            return new FunctionState(function, slot.key.version(), slot.inFlight, slot.queue.size(),
                    liveCount(slot.key), pool.pinnedCount(slot.key), pool.cachedCount(slot.key));
        }
    }

    public PoolState poolState() {
        synchronized (lock) {
            int liveTotal = live.values().stream().mapToInt(Integer::intValue).sum();
            int queued = slots.values().stream().mapToInt(s -> s.queue.size()).sum();
            int inFlight = slots.values().stream().mapToInt(s -> s.inFlight).sum();
            return new PoolState(pool.budgetMib(), pool.reservedMib(), pool.idleMib(), liveTotal, queued, inFlight);
        }
    }

    /** Runs the pool's pending evictions and expirations now. */
    public void cleanUp() {
        pool.cleanUp();
    }

    /**
     * Stops admitting calls, fails waiting ones, waits up to {@code drain} for calls in flight,
     * then destroys every instance.
     */
    public void shutdown(Duration drain) {
        List<Waiting> dropped = new ArrayList<>();
        synchronized (lock) {
            closed = true;
            for (Slot slot : slots.values()) {
                dropped.addAll(slot.queue);
                slot.queue.clear();
            }
        }
        for (Waiting w : dropped) {
            fail(w, new CallException(w.request.callId(), CallException.Codes.SHUTTING_DOWN,
                    "the platform is shutting down", null, Duration.ofSeconds(5)));
        }
        long deadline = System.nanoTime() + drain.toNanos();
        while (System.nanoTime() < deadline && poolState().inFlight() > 0) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        List<Instance> remaining;
        synchronized (lock) {
            for (Slot slot : slots.values()) {
                for (PooledInstance p : pool.drain(slot.key)) {
                    decrementLive(p.key());
                }
            }
            closedForGood = true;
            remaining = new ArrayList<>(everyInstance);
        }
        // Idle ones, and busy ones whose calls outlived the drain: those calls fail as destroyed.
        for (Instance i : remaining) {
            i.destroy("shutting down");
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}
