package io.kiln.invoker.call;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.invoker.instance.FunctionTemplate;
import io.kiln.invoker.instance.InstanceHandle;
import io.kiln.invoker.instance.LogSink;
import io.kiln.invoker.instance.StartFailure;
import io.kiln.invoker.instance.StartPhases;
import io.kiln.invoker.pool.InstancePool;
import io.kiln.invoker.pool.Lifecycle;
import io.kiln.invoker.pool.PoolEntry;
import io.kiln.invoker.pool.PoolKey;
import io.kiln.invoker.store.FunctionConfig;
import io.kiln.protocol.InvokeFrame;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Turns calls into answers from instances. An actor: every decision (admit, dispatch, start,
 * keep, evict, retire) is a message handled one at a time, in order, by the methods marked
 * "on the dispatcher" below, which alone touch {@link Admission} (queues and limits) and
 * {@link InstancePool} (instances, their states, memory). No locks: other threads only post
 * messages ({@link Mailbox#execute}, which never waits for another thread) and never read that
 * state. "On the dispatcher" means inside the mailbox, whichever thread runs it.
 *
 * <p>Dispatch is round-robin over the functions with waiting calls, one call per function per
 * round, so a hot function cannot starve the others. A call takes its function's most recently
 * used idle instance (warm), else starts one if its memory is free (cold), else evicts the
 * least recently used unpinned idle instances and waits for their memory. One call per
 * instance at a time.
 *
 * <p>Slow work is elsewhere: instances start and calls are sent on {@code vmThreads}; answers
 * arrive on the instances' reader threads, which post "released" and then complete the caller;
 * VMs are destroyed by the instances' own teardown threads, and their memory comes back only
 * when {@link InstanceHandle#gone()} says the VM is really gone.
 */
public final class CallDispatcher implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(CallDispatcher.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The agent reports a timeout itself at the deadline; the host waits this much longer. */
    static final Duration HOST_GRACE = Duration.ofSeconds(2);
    /** After a failed start for a function's minimum, wait this long before trying again. */
    static final Duration MIN_RETRY = Duration.ofSeconds(30);

    /** Starts a ready instance of a template (blocking; called on a VM thread). */
    public interface Starter {
        InstanceHandle start(FunctionTemplate template, LogSink logs);
    }

    /** Hooks for metrics; called on VM and reader threads. */
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

    /** A ready instance handed over by a deploy, waiting for memory to join the pool. */
    private record Adoption(PoolKey key, InstanceHandle handle, int memoryMib) {
    }

    private final Mailbox mailbox;
    private final Clock clock;
    private final Starter starter;
    private final Executor vmThreads;
    private final Duration queueTimeout;
    private final Events events;
    private final Consumer<PoolKey> retired;
    // The actor's state: touched only on the dispatcher.
    private final Admission admission;
    private final InstancePool pool;
    private final List<Adoption> adoptions = new ArrayList<>();
    /**
     * Functions whose next call waits for memory, in the order they started waiting. Memory
     * that frees up goes to them in this order: without it, a busy function whose calls keep
     * ending would take every freed MiB (its own instance going idle, or the room another
     * function evicted for itself) and starve the rest.
     */
    private final ArrayDeque<Admission.Function> needRoom = new ArrayDeque<>();
    private boolean closed;
    /** The pool's numbers as of the last dispatch pass, for readers that must not wait (metrics). */
    private volatile PoolState published;
    private CompletableFuture<Void> drained;
    private CompletableFuture<Void> allGone;

    /**
     * @param dispatcherThread runs the actor's messages when a poster has run its share (a single
     *                         thread; a direct executor in tests)
     * @param queueLimit       calls that may wait per function; one more is refused (429)
     * @param queueTimeout     how long a call may wait for an instance before it is refused (503)
     * @param retired          called on a VM thread when an old version has no instance left: its
     *                         snapshot may go
     */
    public CallDispatcher(long memoryBudgetMib, Starter starter, Executor vmThreads, Executor dispatcherThread,
                          Clock clock, int queueLimit, Duration queueTimeout, Events events,
                          Consumer<PoolKey> retired) {
        this.mailbox = new Mailbox(dispatcherThread);
        this.clock = clock;
        this.starter = starter;
        this.vmThreads = vmThreads;
        this.queueTimeout = queueTimeout;
        this.events = events;
        this.retired = retired;
        this.admission = new Admission(queueLimit);
        this.pool = new InstancePool(memoryBudgetMib, key -> admission.minimum(key));
    }

    // ---- the public face: each posts a message -------------------------------------------

    /**
     * Makes {@code template} the version new calls of its function get, and returns once it
     * is. Idle instances of an older version are retired; busy ones finish their call first.
     * {@code warm}, if not null, is a ready instance of the new version (the process engine's
     * deploy makes one): it joins the pool when there is memory for it.
     */
    public void activate(FunctionTemplate template, LogSink logs, InstanceHandle warm) {
        mailbox.ask(() -> {
            PoolKey old = admission.activate(template, logs);
            if (old != null) {
                for (PoolEntry e : pool.idleOf(old)) {
                    retire(e, "version " + old.version() + " replaced");
                }
                retireIfUnused(old);
            }
            if (warm != null) {
                adoptions.add(new Adoption(admission.get(template.version().name()).key, warm,
                        template.version().config().memoryMib()));
            }
            pump();
            return null;
        });
    }

    /** Forgets a deleted function: waiting calls fail with {@code not_found}, calls in flight finish. */
    public void deactivate(String name) {
        mailbox.ask(() -> {
            Admission.Function f = admission.get(name);
            if (f == null) {
                return null;
            }
            f.deleted = true;
            for (PendingCall c : f.queue) {
                fail(c, new CallException(c.request.callId(), CallException.Codes.NOT_FOUND, "function " + name
                        + " was deleted while the call waited", null, null));
            }
            f.queue.clear();
            for (PoolEntry e : pool.idleOf(f.key)) {
                retire(e, "function deleted");
            }
            admission.forgetIfDone(f);
            retireIfUnused(f.key);
            pump();
            return null;
        });
    }

    /** Admits a call, or fails it with {@code not_found}, {@code too_many_requests} or {@code shutting_down}. */
    public CompletableFuture<CallResult> submit(String function, CallRequest request) {
        return submit(function, request, IfBusy.QUEUE);
    }

    /**
     * As {@link #submit(String, CallRequest)}; with {@link IfBusy#REFUSE} a call that would have to
     * wait is refused at once with {@code at_capacity} instead. Never blocks: the call is posted to
     * the dispatcher.
     */
    public CompletableFuture<CallResult> submit(String function, CallRequest request, IfBusy ifBusy) {
        PendingCall call = new PendingCall(function, request, ifBusy, clock.nanoTime());
        mailbox.execute(() -> admit(call));
        return call.result;
    }

    // ---- admission (on the dispatcher) ---------------------------------------------------

    private void admit(PendingCall call) {
        if (closed) {
            fail(call, shuttingDown(call));
            return;
        }
        Admission.Function known = admission.get(call.function);
        if (call.ifBusy == IfBusy.REFUSE && known != null && !known.deleted && !startsAtOnce(known)) {
            // Refused before it is queued: it would only wait, and a pump for it could evict
            // another function's idle instance for a call that then goes elsewhere.
            fail(call, atCapacity(call, known));
            return;
        }
        CallException refused = admission.admit(call);
        if (refused != null) {
            fail(call, refused);
            return;
        }
        pump();
        Admission.Function f = admission.get(call.function);
        if (call.ifBusy == IfBusy.REFUSE && !call.result.isDone() && f.queue.remove(call)) {
            fail(call, atCapacity(call, f)); // waiting for memory
            return;
        }
        if (call.queueTimer == null && !call.result.isDone() && f.queue.contains(call)) {
            // Armed only for a call that has to wait: most calls leave the queue at once.
            Duration left = queueTimeout.minusNanos(clock.nanoTime() - call.admittedNanos);
            call.queueTimer = clock.schedule(left.isNegative() ? Duration.ZERO : left,
                    () -> mailbox.execute(() -> queueTimedOut(call)));
        }
    }

    /**
     * Whether a new call of {@code f} would start now, without waiting or evicting: nothing of
     * it waits, it is under its concurrency, and an idle instance of it is there, or the memory
     * for a new one is free (after what calls waiting for room were promised).
     */
    private boolean startsAtOnce(Admission.Function f) {
        FunctionConfig c = f.config();
        if (f.inFlight >= c.maxConcurrency() || !f.queue.isEmpty()) {
            return false;
        }
        if (pool.count(f.key, Lifecycle.IDLE) > 0) {
            return true;
        }
        return pool.live(f.key) < c.maxInstances() && pool.freeMib() - promisedBefore(f) >= c.memoryMib();
    }

    private CallException atCapacity(PendingCall call, Admission.Function f) {
        return new CallException(call.request.callId(), CallException.Codes.AT_CAPACITY, "function " + f.name
                + " cannot start the call at once here (calls in flight " + f.inFlight + " of "
                + f.config().maxConcurrency() + ", " + f.queue.size() + " waiting, memory budget " + pool.budgetMib()
                + " MiB)", null, null);
    }

    private void queueTimedOut(PendingCall call) {
        Admission.Function f = admission.get(call.function);
        if (f == null || !f.queue.remove(call)) {
            return; // dispatched or failed meanwhile
        }
        fail(call, new CallException(call.request.callId(), CallException.Codes.QUEUE_TIMEOUT, "no instance of "
                + f.name + " became free within " + queueTimeout.toMillis() + " ms (calls in flight " + f.inFlight
                + ", memory budget " + pool.budgetMib() + " MiB); try again later", null, Duration.ofSeconds(1)));
    }

    // ---- dispatch (on the dispatcher) ----------------------------------------------------

    /**
     * Dispatches what can be dispatched, then tops up minimums. Runs after every change. Rounds
     * give each function with waiting calls one call per round; the function that goes first
     * changes with every pass, so when an instance frees up, functions take turns to have it
     * (or to evict it for their own).
     */
    private void pump() {
        needRoom.removeIf(f -> f.deleted || f.queue.isEmpty() || f.inFlight >= f.config().maxConcurrency()
                || pool.live(f.key) >= f.config().maxInstances() || admission.get(f.name) != f);
        adopt();
        List<Admission.Function> order = admission.order();
        admission.nextPass();
        boolean progress = true;
        while (progress) {
            progress = false;
            for (Admission.Function f : order) {
                if (!f.queue.isEmpty() && dispatchOne(f)) {
                    progress = true;
                }
            }
        }
        if (!closed) {
            for (Admission.Function f : admission.all()) {
                keepMinimum(f);
            }
        }
        published = computePoolState();
    }

    private boolean dispatchOne(Admission.Function f) {
        FunctionConfig config = f.config();
        if (f.deleted || f.inFlight >= config.maxConcurrency()) {
            return false;
        }
        PoolEntry warm = pool.take(f.key);
        if (warm != null) {
            needRoom.remove(f); // served: if it needs room again, it queues behind the others
            PendingCall call = leaveQueue(f);
            InstanceHandle handle = warm.handle();
            vmThreads.execute(() -> {
                events.started(f.name, false, 0);
                invoke(call, f, warm, handle, config, false, 0);
            });
            return true;
        }
        if (pool.live(f.key) >= config.maxInstances()) {
            return false;
        }
        long ahead = promisedBefore(f);
        PoolEntry fresh = pool.freeMib() - ahead >= config.memoryMib() ? pool.start(f.key, config.memoryMib()) : null;
        if (fresh == null) {
            if (!needRoom.contains(f)) {
                needRoom.addLast(f);
            }
            evict(ahead + config.memoryMib(), f.key);
            return false;
        }
        needRoom.remove(f);
        PendingCall call = leaveQueue(f);
        FunctionTemplate template = f.template;
        LogSink logs = f.logs;
        vmThreads.execute(() -> coldStart(call, f, fresh, template, logs));
        return true;
    }

    private PendingCall leaveQueue(Admission.Function f) {
        PendingCall call = f.queue.pollFirst();
        f.inFlight++;
        if (call.queueTimer != null) {
            call.queueTimer.cancel();
        }
        return call;
    }

    /** Memory promised to the functions that started waiting for room before {@code f} (all, if f is not waiting). */
    private long promisedBefore(Admission.Function f) {
        long mib = 0;
        for (Admission.Function w : needRoom) {
            if (w == f) {
                break;
            }
            mib += w.config().memoryMib();
        }
        return mib;
    }

    /** Makes {@code mib} free or on its way: the least recently used unpinned idle instances go. */
    private void evict(long mib, PoolKey forKey) {
        for (PoolEntry e : pool.evictFor(mib)) {
            tearDown(e, "evicted (least recently used idle) to make room for " + forKey);
        }
    }

    /** Starts instances in the background until the function has its minimum, as memory allows. */
    private void keepMinimum(Admission.Function f) {
        if (f.deleted || clock.nanoTime() < f.minRetryAfterNanos) {
            return;
        }
        FunctionConfig config = f.config();
        while (pool.live(f.key) < config.minInstances()) {
            long ahead = promisedBefore(null); // calls waiting for room come before minimums
            PoolEntry e = pool.freeMib() - ahead >= config.memoryMib() ? pool.start(f.key, config.memoryMib())
                    : null;
            if (e == null) {
                evict(ahead + config.memoryMib(), f.key);
                return;
            }
            FunctionTemplate template = f.template;
            LogSink logs = f.logs;
            vmThreads.execute(() -> warmUp(f, e, template, logs));
        }
    }

    /** Deploys' instances join when their memory is free; one that cannot fit at all goes. */
    private void adopt() {
        for (Iterator<Adoption> i = adoptions.iterator(); i.hasNext(); ) {
            Adoption a = i.next();
            if (closed || !admission.current(a.key)) {
                i.remove();
                a.handle.destroy("its version is no longer current");
                continue;
            }
            PoolEntry e = pool.start(a.key, a.memoryMib);
            if (e != null) {
                i.remove();
                settle(e, a.handle, false);
                continue;
            }
            evict(a.memoryMib, a.key);
            if (pool.freeMib() + retiringMib() < a.memoryMib) {
                i.remove();
                a.handle.destroy("no room for it in the memory budget");
            }
        }
    }

    private long retiringMib() {
        long n = 0;
        for (PoolEntry e : pool.entries()) {
            if (e.state() == Lifecycle.RETIRING) {
                n += e.memoryMib();
            }
        }
        return n;
    }

    // ---- starting (on VM threads, then a message) ----------------------------------------

    private void coldStart(PendingCall call, Admission.Function f, PoolEntry e, FunctionTemplate template,
                           LogSink logs) {
        long start = clock.nanoTime();
        InstanceHandle handle;
        try {
            handle = starter.start(template, logs);
        } catch (RuntimeException x) {
            mailbox.execute(() -> startFailed(f, e, call));
            String output = x instanceof StartFailure sf ? sf.output() : "";
            String code = x instanceof StartFailure sf ? sf.code() : "start_failed";
            ObjectNode details = JSON.createObjectNode().put("startCode", code).put("output", output);
            LOG.log(System.Logger.Level.WARNING, "cold start of " + e.key() + " failed: " + x.getMessage());
            call.fail(new CallException(call.request.callId(), CallException.Codes.START_FAILED, "starting an "
                    + "instance of " + e.key() + " failed: " + x.getMessage(), details, Duration.ofSeconds(1)));
            return;
        }
        long startUs = (clock.nanoTime() - start) / 1000;
        events.started(call.function, true, startUs);
        // Posted before the call is sent, so the dispatcher sees the instance busy before any answer.
        mailbox.execute(() -> started(e, handle, true));
        invoke(call, f, e, handle, template.version().config(), true, startUs);
    }

    private void warmUp(Admission.Function f, PoolEntry e, FunctionTemplate template, LogSink logs) {
        long start = clock.nanoTime();
        InstanceHandle handle;
        try {
            handle = starter.start(template, logs);
        } catch (RuntimeException x) {
            LOG.log(System.Logger.Level.WARNING, "starting a minimum instance of " + e.key() + " failed, retrying in "
                    + MIN_RETRY.toSeconds() + " s: " + x.getMessage());
            mailbox.execute(() -> startFailed(f, e, null));
            return;
        }
        LOG.log(System.Logger.Level.INFO, "minimum instance of " + e.key() + " ready in "
                + (clock.nanoTime() - start) / 1_000_000 + " ms");
        mailbox.execute(() -> started(e, handle, false));
    }

    /** On the dispatcher: a start finished. */
    private void started(PoolEntry e, InstanceHandle handle, boolean forCall) {
        settle(e, handle, forCall);
        pump();
    }

    /** A started instance: busy for its call, else idle if still wanted, else it goes. */
    private void settle(PoolEntry e, InstanceHandle handle, boolean forCall) {
        pool.attach(e, handle);
        handle.gone().whenComplete((v, x) -> mailbox.execute(() -> gone(e)));
        if (e.state() == Lifecycle.RETIRING) {
            handle.destroy(closed ? "the platform shut down while it started" : "retired while it started");
        } else if (forCall) {
            pool.busy(e);
        } else if (closed || !admission.current(e.key())) {
            retire(e, "started for a version no longer current");
        } else {
            goIdle(e);
        }
    }

    /** On the dispatcher: a start failed; its memory was never used. */
    private void startFailed(Admission.Function f, PoolEntry e, PendingCall call) {
        pool.destroyed(e);
        if (call != null) {
            f.inFlight--;
            callEnded(f);
        } else if (e.key().equals(f.key)) {
            f.minRetryAfterNanos = clock.nanoTime() + MIN_RETRY.toNanos();
            clock.schedule(MIN_RETRY, () -> mailbox.execute(this::pump));
        }
        retireIfUnused(e.key());
        pump();
    }

    // ---- calls (on VM threads and reader threads) ----------------------------------------

    private void invoke(PendingCall call, Admission.Function f, PoolEntry e, InstanceHandle handle,
                        FunctionConfig config, boolean cold, long startUs) {
        CallRequest r = call.request;
        Duration timeout = r.timeout() != null && r.timeout().compareTo(config.timeout()) < 0 ? r.timeout()
                : config.timeout();
        ObjectNode meta = JSON.createObjectNode().put("timeoutMs", timeout.toMillis());
        if (r.http() != null) {
            meta.set("http", r.http());
        }
        long queuedUs = Math.max(0, (clock.nanoTime() - call.admittedNanos) / 1000 - startUs);
        long sent = clock.nanoTime();
        handle.send(new InvokeFrame(r.callId(), meta.toString(), r.body()), timeout.plus(HOST_GRACE))
                .whenComplete((frame, error) -> {
                    long invokeUs = (clock.nanoTime() - sent) / 1000;
                    events.answered(call.function, invokeUs);
                    CallAnswers.Answer a = CallAnswers.of(r.callId(), e.key(), frame, error,
                            new CallTimings(cold, queuedUs, startUs, invokeUs,
                                    cold ? handle.startPhases() : StartPhases.NONE));
                    if (!a.reusable()) {
                        handle.destroy(a.why()); // returns at once; the VM goes on a teardown thread
                    }
                    // Posted before the caller hears, so that the caller's next call finds the
                    // instance idle; posting never waits.
                    mailbox.execute(() -> released(f, e, a.reusable()));
                    if (a.result() != null) {
                        call.result.complete(a.result());
                    } else {
                        call.fail(a.error());
                    }
                });
    }

    /** On the dispatcher: a call ended; its instance goes idle if clean and current, else it goes. */
    private void released(Admission.Function f, PoolEntry e, boolean reusable) {
        if (e.state() == Lifecycle.BUSY) {
            boolean current = !closed && admission.current(e.key());
            if (reusable && current) {
                goIdle(e);
            } else {
                retire(e, reusable ? "its version is no longer current" : "not reusable after its call");
            }
        }
        f.inFlight--;
        callEnded(f);
        pump();
    }

    private void callEnded(Admission.Function f) {
        admission.forgetIfDone(f);
        if (closed && drained != null && admission.inFlight() == 0) {
            drained.complete(null);
        }
    }

    /**
     * On the dispatcher: an instance becomes idle, the most recently used. With a zero
     * keep-alive it goes at once unless pinned; otherwise its keep-alive timer starts.
     */
    private void goIdle(PoolEntry e) {
        pool.idle(e, clock.nanoTime());
        if (pool.pinned(e.key())) {
            return; // a function's minimum never expires
        }
        Duration keepAlive = admission.get(e.key().function()).config().keepAlive();
        if (keepAlive.isZero()) {
            retire(e, "keep-alive is zero");
            return;
        }
        long epoch = e.epoch();
        Clock.Cancellable timer = clock.schedule(keepAlive, () -> mailbox.execute(() -> {
            if (pool.expire(e, epoch)) {
                tearDown(e, "keep-alive of " + keepAlive.toMillis() + " ms expired");
                pump();
            }
        }));
        e.onLeavingIdle(timer::cancel);
    }

    // ---- retiring and teardown (on the dispatcher) ---------------------------------------

    /** Retires an idle (or starting) instance and starts its teardown. */
    private void retire(PoolEntry e, String why) {
        if (pool.retire(e)) {
            tearDown(e, why);
        }
    }

    /**
     * Starts destroying a retired instance; never waits. Its memory comes back in {@link #gone}.
     * A starting one has no VM yet: {@link #started} destroys it when it comes.
     */
    private void tearDown(PoolEntry e, String why) {
        if (e.handle() != null) {
            LOG.log(System.Logger.Level.DEBUG, () -> "retiring " + e + ": " + why);
            e.handle().destroy(why);
        }
    }

    /** On the dispatcher: the VM is really gone; its memory is free. */
    private void gone(PoolEntry e) {
        if (e.state() == Lifecycle.DESTROYED) {
            return;
        }
        if (e.state() == Lifecycle.IDLE) {
            LOG.log(System.Logger.Level.WARNING, "idle " + e + " stopped on its own");
        }
        pool.retire(e); // a live one died on its own: its call, if any, fails and is released as such
        pool.destroyed(e);
        retireIfUnused(e.key());
        if (allGone != null && pool.size() == 0) {
            allGone.complete(null);
        }
        pump();
    }

    /** An old version with no instance left: its snapshot may go (on a VM thread: it deletes files). */
    private void retireIfUnused(PoolKey key) {
        if (key != null && !admission.current(key) && !pool.any(key)) {
            vmThreads.execute(() -> retired.accept(key));
        }
    }

    private void fail(PendingCall call, CallException e) {
        if (call.queueTimer != null) {
            call.queueTimer.cancel();
        }
        call.fail(e);
    }

    private static CallException shuttingDown(PendingCall call) {
        return new CallException(call.request.callId(), CallException.Codes.SHUTTING_DOWN,
                "the platform is shutting down", null, Duration.ofSeconds(5));
    }

    // ---- state ---------------------------------------------------------------------------

    /** A function's numbers right now. */
    public record FunctionState(String name, long version, int inFlight, int queued, int live, int pinnedIdle,
                                int cachedIdle) {
    }

    /**
     * The pool as a whole right now. {@code reservedMib}: every instance's memory but that of
     * evictable idle ones ({@code idleMib}); {@code liveInstances}: instances whose VM is not
     * yet gone (retiring ones included).
     */
    public record PoolState(long budgetMib, long reservedMib, long idleMib, int liveInstances, int queued,
                            int inFlight) {
    }

    public FunctionState state(String function) {
        return mailbox.ask(() -> {
            Admission.Function f = admission.get(function);
            if (f == null || f.deleted) {
                return null;
            }
            int idle = pool.count(f.key, Lifecycle.IDLE);
            int evictable = pool.evictableIdle(f.key);
            return new FunctionState(function, f.key.version(), f.inFlight, f.queue.size(), pool.live(f.key),
                    idle - evictable, evictable);
        });
    }

    /** Exact: waits for the dispatcher to answer, after every message posted before. */
    public PoolState poolState() {
        return mailbox.ask(this::computePoolState);
    }

    /**
     * As of the dispatcher's last pass, without waiting for it: for gauges read on an event
     * loop. A queue timeout since then is not in it yet.
     */
    public PoolState poolStateNow() {
        PoolState p = published;
        return p != null ? p : new PoolState(pool.budgetMib(), 0, 0, 0, 0, 0);
    }

    private PoolState computePoolState() {
        long idle = pool.evictableMib();
        return new PoolState(pool.budgetMib(), pool.usedMib() - idle, idle, pool.size(), admission.queued(),
                admission.inFlight());
    }

    /** The instances and their states, for tests and debugging. */
    public String describePool() {
        return mailbox.ask(pool::toString);
    }

    // ---- shutdown ------------------------------------------------------------------------

    /**
     * Stops admitting calls and fails waiting ones; returns a future that completes when no
     * call is in flight.
     */
    public CompletableFuture<Void> stopAdmitting() {
        return mailbox.ask(() -> {
            closed = true;
            drained = new CompletableFuture<>();
            for (Admission.Function f : admission.all()) {
                for (PendingCall c : f.queue) {
                    fail(c, shuttingDown(c));
                }
                f.queue.clear();
            }
            for (Adoption a : adoptions) {
                a.handle.destroy("shutting down");
            }
            adoptions.clear();
            if (admission.inFlight() == 0) {
                drained.complete(null);
            }
            return drained;
        });
    }

    /**
     * Retires every instance, busy ones too (their calls fail as destroyed); returns a future
     * that completes when every VM is gone.
     */
    public CompletableFuture<Void> destroyAll() {
        return mailbox.ask(() -> {
            allGone = new CompletableFuture<>();
            for (PoolEntry e : pool.entries()) {
                retire(e, "shutting down"); // a busy one's call fails as destroyed
            }
            if (pool.size() == 0) {
                allGone.complete(null);
            }
            return allGone;
        });
    }

    /**
     * Stops admitting calls, fails waiting ones, waits up to {@code drain} for calls in flight,
     * then destroys every instance and waits (up to 10 s) until their VMs are gone.
     */
    public void shutdown(Duration drain) {
        await(stopAdmitting(), drain);
        await(destroyAll(), Duration.ofSeconds(10));
    }

    private static void await(CompletableFuture<Void> f, Duration limit) {
        try {
            f.get(limit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // Shutdown goes on: the next step cuts off what is left.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}
