package io.kiln.gateway.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.gateway.calls.CallbackTargets;
import io.kiln.gateway.calls.Callbacks;
import io.kiln.gateway.http.ApiError;
import io.kiln.gateway.http.CallErrors;
import io.kiln.gateway.http.Json;
import io.kiln.gateway.http.Reply;
import io.kiln.invoker.Invoker;
import io.kiln.invoker.call.CallDispatcher;
import io.kiln.invoker.call.CallRequest;
import io.kiln.invoker.call.CallResult;
import io.kiln.invoker.store.FunctionVersion;
import io.kiln.queue.Destination;
import io.kiln.queue.EventPolicy;
import io.kiln.queue.Failure;
import io.kiln.queue.NewItem;
import io.kiln.queue.QueueItem;
import io.kiln.queue.QueueStore;
import io.kiln.queue.RetryPolicy;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs this node's share of the queue: one thread claims due items while it has free slots
 * (woken by enqueues, NOTIFY or its poll), hands each to the invoker (a call) or to the callback
 * sender, and records the outcome on the store's threads. The outcome and everything it causes
 * (a callback, a destination's call) commit in one transaction: an ended call's follow-ups are
 * never lost, and never made twice.
 */
public final class QueueWorker {

    private static final System.Logger LOG = System.getLogger(QueueWorker.class.getName());
    /** Items claimed per round trip to the store. */
    static final int CLAIM_BATCH = 32;
    /** How long a call that found no capacity waits before it is offered again. */
    static final Duration NOT_RUN_DELAY = Duration.ofSeconds(1);
    /** Callbacks and URL destinations: 5 retries from 1 s to 5 min, for up to a day. */
    static final RetryPolicy CALLBACK_POLICY = new RetryPolicy(5, Duration.ofSeconds(1), Duration.ofMinutes(5),
            Duration.ofDays(1));

    private final QueueStore store;
    private final Invoker invoker;
    private final Callbacks callbacks;
    private final QueueConfig config;
    private final QueueMetrics metrics;
    private final String owner;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final java.util.concurrent.ConcurrentHashMap<String, AtomicInteger> byFunction =
            new java.util.concurrent.ConcurrentHashMap<>();
    private int round;
    private final List<ResultCheck> resultChecks = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Object signal = new Object();
    private boolean woken;
    private volatile boolean stopped;
    private final Thread thread;

    QueueWorker(QueueStore store, Invoker invoker, Callbacks callbacks, QueueConfig config, QueueMetrics metrics) {
        this.store = store;
        this.invoker = invoker;
        this.callbacks = callbacks;
        this.config = config;
        this.metrics = metrics;
        this.owner = config.node() + "/" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        this.thread = new Thread(this::loop, "kiln-queue-worker");
        store.onEnded(this::followUps);
        this.thread.setDaemon(true);
    }

    void checkResults(ResultCheck c) {
        resultChecks.add(c);
    }

    /** This process's lease owner name: the node, and a random part new at every start. */
    String owner() {
        return owner;
    }

    int inFlight() {
        return inFlight.get();
    }

    void start() {
        thread.start();
    }

    void wake() {
        synchronized (signal) {
            woken = true;
            signal.notifyAll();
        }
    }

    /** Stops claiming; what runs finishes through the invoker's own drain. */
    void stop() {
        stopped = true;
        wake();
    }

    private void loop() {
        while (!stopped) {
            int claimed = 0;
            boolean full = false;
            boolean leftToWarmNodes = false;
            try {
                List<String> due = store.dueFunctions(CLAIM_BATCH);
                // A different first function each round: no function's backlog keeps the others waiting.
                int start = due.isEmpty() ? 0 : Math.floorMod(round++, due.size());
                for (int k = 0; k < due.size() && !stopped; k++) {
                    String fn = due.get((start + k) % due.size());
                    int free = config.concurrency() - inFlight.get();
                    if (free <= 0) {
                        full = true;
                        break;
                    }
                    int room = room(fn);
                    if (room <= 0) {
                        continue;
                    }
                    // Work of a function this node has no instance of waits a moment for a node
                    // that has one warm (on a shared store; on one node there is no other).
                    Duration dueFor = config.coldClaimDelay().isZero() || warm(fn) ? Duration.ZERO
                            : config.coldClaimDelay();
                    List<QueueItem> items = store.claim(owner, fn, Math.min(Math.min(free, room), CLAIM_BATCH),
                            config.lease(), dueFor);
                    if (items.isEmpty() && !dueFor.isZero()) {
                        leftToWarmNodes = true;
                    }
                    for (QueueItem i : items) {
                        started(i);
                        run(i);
                    }
                    claimed += items.size();
                }
            } catch (SQLException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "claiming queue work failed; retrying after the poll interval: "
                        + e.getMessage());
            }
            if (claimed > 0 && !full) {
                continue; // maybe more is due
            }
            synchronized (signal) {
                if (!woken && !stopped) {
                    try {
                        // Work left to warm nodes is this node's once the delay has passed.
                        signal.wait(leftToWarmNodes ? config.coldClaimDelay().toMillis() : config.poll().toMillis());
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                woken = false;
            }
        }
    }

    /**
     * How many more of {@code function}'s items this node may run now: its maxConcurrency (the
     * invoker's own limit) less what this node runs of it. Claiming more would only lease items
     * that then wait inside the invoker, where a crash would count them as interrupted attempts.
     */
    private int room(String function) {
        int limit = invoker.current(function).map(v -> v.config().maxConcurrency()).orElse(1);
        AtomicInteger running = byFunction.get(function);
        return limit - (running == null ? 0 : running.get());
    }

    /** Whether this node has a live instance of {@code function}. */
    private boolean warm(String function) {
        CallDispatcher.FunctionState s = invoker.state(function);
        return s != null && s.live() > 0;
    }

    private void started(QueueItem i) {
        inFlight.incrementAndGet();
        byFunction.computeIfAbsent(i.function(), f -> new AtomicInteger()).incrementAndGet();
    }

    private void ended(QueueItem i) {
        inFlight.decrementAndGet();
        byFunction.computeIfPresent(i.function(), (f, n) -> n.decrementAndGet() <= 0 ? null : n);
    }

    private void run(QueueItem item) {
        try {
            switch (item.kind()) {
                case CALL -> call(item);
                case CALLBACK -> callback(item);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "queue item " + CallRequest.format(item.id()) + " failed to start", e);
            finish(item, c -> store.fail(c, item.id(), owner, new Failure("internal_error",
                    "the platform failed to start it: " + e, true)), "failed");
        }
    }

    // ---- calls ---------------------------------------------------------------------------

    private void call(QueueItem item) {
        FunctionVersion fn = invoker.current(item.function()).orElse(null);
        if (fn == null) {
            fail(item, null, new Failure("not_found", "function " + item.function() + " no longer exists", false));
            return;
        }
        ObjectNode head = null;
        if (item.httpHead() != null) {
            try {
                head = (ObjectNode) Json.MAPPER.readTree(item.httpHead());
            } catch (IOException | ClassCastException e) {
                fail(item, fn, new Failure("internal_error", "the stored HTTP head is unreadable: " + e, false));
                return;
            }
        }
        CompletableFuture<CallResult> f = invoker.invoke(item.function(), new CallRequest(item.id(), item.input(),
                head, null));
        f.whenComplete((result, error) -> {
            if (error == null) {
                Reply reply;
                try {
                    reply = Reply.of(result);
                } catch (ApiError e) {
                    fail(item, fn, failure(e));
                    return;
                }
                for (ResultCheck check : resultChecks) {
                    ResultCheck.Retry retry = check.check(item, reply);
                    if (retry != null) {
                        fail(item, fn, retry.failure(), retry.input());
                        return;
                    }
                }
                byte[] stored = CallView.result(reply);
                finish(item, c -> store.succeed(c, item.id(), owner, stored), "succeeded");
                return;
            }
            ApiError e = CallErrors.of(error);
            if (CallOutcomes.notRun(e.code())) {
                finish(item, c -> store.release(c, item.id(), owner, NOT_RUN_DELAY), "released");
            } else {
                fail(item, fn, failure(e));
            }
        });
    }

    /** The error as the queue keeps it: its code, message and (for function_error) the exception's type. */
    private static Failure failure(ApiError e) {
        JsonNode type = e.extra() == null ? null : e.extra().get("type");
        return new Failure(e.code(), e.getMessage(), type == null ? null : type.asText(),
                CallOutcomes.retryable(e.code()));
    }

    private void fail(QueueItem item, FunctionVersion fn, Failure failure) {
        fail(item, fn, failure, null);
    }

    /** @param input null, or the item's input from now on (what a {@link ResultCheck} left to retry) */
    private void fail(QueueItem item, FunctionVersion fn, Failure failure, byte[] input) {
        finish(item, c -> input == null ? store.fail(c, item.id(), owner, failure)
                : store.fail(c, item.id(), owner, failure, input), "failed");
    }

    /**
     * An item ended for good, whoever recorded it (this worker, the reaper, a claim that found it
     * too old): inside that transaction, an ended call's record goes to its X-Kiln-Callback and to
     * its function's destination.
     */
    private void followUps(Connection c, QueueItem ended) throws SQLException {
        if (ended.state() == QueueItem.State.DEAD) {
            metrics.deadLettered();
        }
        if (ended.kind() != QueueItem.Kind.CALL) {
            return;
        }
        long id = ended.id();
        EventPolicy events = invoker.current(ended.function()).map(v -> v.config().events()).orElse(null);
        Destination destination = events == null ? null
                : ended.state() == QueueItem.State.SUCCEEDED ? events.onSuccess() : events.onFailure();
        byte[] record = Json.MAPPER.valueToTree(CallView.of(ended, store.attempts(c, id), false)).toString()
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String source = "destination:" + CallRequest.format(id);
        if (ended.callbackUrl() != null) {
            store.enqueue(c, new NewItem(CallRequest.newId(), QueueItem.Kind.CALLBACK, ended.function(), record, null,
                    ended.callbackUrl(), null, "callback:" + CallRequest.format(id), CALLBACK_POLICY, null));
        }
        if (destination == null) {
            return;
        }
        if (destination.kind() == Destination.Kind.URL) {
            store.enqueue(c, new NewItem(CallRequest.newId(), QueueItem.Kind.CALLBACK, ended.function(), record, null,
                    destination.target(), null, source, CALLBACK_POLICY, null));
        } else {
            RetryPolicy policy = invoker.current(destination.target()).map(v -> v.config().events().retry())
                    .orElse(EventPolicy.DEFAULT.retry());
            store.enqueue(c, NewItem.call(CallRequest.newId(), destination.target(), record, null, null, null, source,
                    policy));
        }
    }

    // ---- callbacks -----------------------------------------------------------------------

    private void callback(QueueItem item) {
        callbacks.send(item.callbackUrl(), CallRequest.format(item.id()), item.input()).onComplete(ar -> {
            if (ar.succeeded()) {
                finish(item, c -> store.succeed(c, item.id(), owner, new byte[0]), "succeeded");
            } else {
                // A receiver that resolves to an internal address now is refused for good: trying
                // again would only ask the same name again, and the caller learns it at once.
                boolean forbidden = ar.cause() instanceof CallbackTargets.Forbidden;
                finish(item, c -> {
                    QueueStore.Failed f = store.fail(c, item.id(), owner, forbidden
                            ? new Failure("callback_forbidden", ar.cause().getMessage(), false)
                            : new Failure("callback_failed", "POST " + item.callbackUrl() + ": "
                            + ar.cause().getMessage(), true));
                    if (f.dead()) {
                        LOG.log(System.Logger.Level.WARNING, "callback " + CallRequest.format(item.id()) + " to "
                                + item.callbackUrl() + (forbidden ? " is refused: " : " is dead after its retries: ")
                                + ar.cause().getMessage());
                    }
                    return null;
                }, "failed");
            }
        });
    }

    // ---- ending --------------------------------------------------------------------------

    /** Records an attempt's outcome on the store's threads, then frees its slot. */
    private void finish(QueueItem item, io.kiln.queue.db.Database.Tx<?> outcome, String metric) {
        store.database().submit(outcome).whenComplete((v, e) -> {
            if (e != null) {
                // The lease runs out and the reaper returns the item: it is run again, not lost.
                LOG.log(System.Logger.Level.WARNING, "recording the outcome of queue item "
                        + CallRequest.format(item.id()) + " failed: " + e);
            } else {
                metrics.attempt(metric);
            }
            ended(item);
            wake();
        });
    }
}
