package io.kiln.invoker.call;

import io.kiln.invoker.instance.FunctionTemplate;
import io.kiln.invoker.instance.LogSink;
import io.kiln.invoker.pool.PoolKey;
import io.kiln.invoker.store.FunctionConfig;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The functions that take calls: each one's current version, its limits, its calls in flight
 * and its bounded queue of waiting calls, and the round-robin order the dispatcher serves the
 * queues in. Admission only: it neither starts nor destroys anything. Confined to the
 * dispatcher's messages.
 */
final class Admission {

    /** A function as admission sees it. */
    static final class Function {
        final String name;
        FunctionTemplate template;
        PoolKey key;
        LogSink logs;
        boolean deleted;
        int inFlight;
        final ArrayDeque<PendingCall> queue = new ArrayDeque<>();
        /** After a failed start of a minimum instance, no new one before this. */
        long minRetryAfterNanos = Long.MIN_VALUE;

        Function(String name) {
            this.name = name;
        }

        FunctionConfig config() {
            return template.version().config();
        }
    }

    private final Map<String, Function> functions = new LinkedHashMap<>();
    private final int queueLimit;
    private int roundRobin;

    Admission(int queueLimit) {
        this.queueLimit = queueLimit;
    }

    /** Makes {@code template} current; returns the version it replaces (null if none, or the same). */
    PoolKey activate(FunctionTemplate template, LogSink logs) {
        Function f = functions.computeIfAbsent(template.version().name(), Function::new);
        PoolKey old = f.key;
        f.template = template;
        f.key = new PoolKey(template.version().name(), template.version().version());
        f.logs = logs;
        f.deleted = false;
        f.minRetryAfterNanos = Long.MIN_VALUE;
        return old == null || old.equals(f.key) ? null : old;
    }

    Function get(String name) {
        return functions.get(name);
    }

    /** Forgets a function once it is deleted and its last call has ended. */
    void forgetIfDone(Function f) {
        if (f.deleted && f.inFlight == 0 && functions.get(f.name) == f) {
            functions.remove(f.name);
        }
    }

    /** Queues {@code call}, or says why not: the refusal the caller gets. */
    CallException admit(PendingCall call) {
        Function f = functions.get(call.function);
        long id = call.request.callId();
        if (f == null || f.deleted) {
            return new CallException(id, CallException.Codes.NOT_FOUND, "no function named " + call.function, null,
                    null);
        }
        if (f.queue.size() >= queueLimit) {
            return new CallException(id, CallException.Codes.QUEUE_FULL, "function " + f.name + " has "
                    + f.inFlight + " calls in flight (its limit is " + f.config().maxConcurrency() + ") and "
                    + f.queue.size() + " waiting, the most allowed; try again later", null, Duration.ofSeconds(1));
        }
        f.queue.addLast(call);
        return null;
    }

    /** Whether {@code key} is the current version of a function that is not deleted. */
    boolean current(PoolKey key) {
        Function f = functions.get(key.function());
        return f != null && !f.deleted && key.equals(f.key);
    }

    /** The minimum of live instances {@code key} keeps: its function's, if it is current; else none. */
    int minimum(PoolKey key) {
        return current(key) ? functions.get(key.function()).config().minInstances() : 0;
    }

    /**
     * The functions in this pass's order: each pass (each {@link #nextPass}) starts one function
     * further along, so the function served first takes turns.
     */
    List<Function> order() {
        List<Function> all = new ArrayList<>(functions.values());
        if (all.isEmpty()) {
            return all;
        }
        int first = Math.floorMod(roundRobin, all.size());
        List<Function> order = new ArrayList<>(all.size());
        for (int i = 0; i < all.size(); i++) {
            order.add(all.get((first + i) % all.size()));
        }
        return order;
    }

    /** The next dispatch pass starts with the next function. */
    void nextPass() {
        roundRobin++;
    }

    Collection<Function> all() {
        return functions.values();
    }

    int inFlight() {
        int n = 0;
        for (Function f : functions.values()) {
            n += f.inFlight;
        }
        return n;
    }

    int queued() {
        int n = 0;
        for (Function f : functions.values()) {
            n += f.queue.size();
        }
        return n;
    }
}
