package io.kiln.invoker.testing;

import io.kiln.invoker.call.CallDispatcher;
import io.kiln.invoker.instance.FunctionTemplate;
import io.kiln.invoker.instance.InstanceHandle;
import io.kiln.invoker.instance.LogSink;
import io.kiln.invoker.instance.StartFailure;
import io.kiln.invoker.pool.PoolKey;

import java.util.ArrayList;
import java.util.List;

/**
 * An in-memory engine for the dispatcher: starts succeed at once with a {@link FakeInstance}
 * (or fail, when told), and every instance it made is kept for the test to drive.
 */
public final class FakeEngine implements CallDispatcher.Starter {

    private final List<FakeInstance> started = new ArrayList<>();
    private int failures;
    private boolean holdTeardowns;
    private long ids;

    @Override
    public synchronized InstanceHandle start(FunctionTemplate template, LogSink logs) {
        if (failures > 0) {
            failures--;
            throw new StartFailure("init_failed", "the fake init failed", "fake init output", null);
        }
        FakeInstance i = new FakeInstance(++ids, key(template), holdTeardowns);
        started.add(i);
        return i;
    }

    /** A ready instance made outside the dispatcher, as a deploy on the process engine hands over. */
    public synchronized FakeInstance deployInstance(FunctionTemplate template) {
        FakeInstance i = new FakeInstance(++ids, key(template), holdTeardowns);
        started.add(i);
        return i;
    }

    private static PoolKey key(FunctionTemplate t) {
        return new PoolKey(t.version().name(), t.version().version());
    }

    /** The next {@code n} starts fail. */
    public synchronized void failNextStarts(int n) {
        failures = n;
    }

    /** From now on, teardowns finish only when the test says ({@link FakeInstance#finishTeardown}). */
    public synchronized void holdTeardowns() {
        holdTeardowns = true;
    }

    public synchronized List<FakeInstance> started() {
        return List.copyOf(started);
    }

    public synchronized List<FakeInstance> of(String function) {
        return started.stream().filter(i -> i.key().function().equals(function)).toList();
    }

    /** Instances not destroyed. */
    public synchronized List<FakeInstance> alive() {
        return started.stream().filter(i -> !i.destroyed()).toList();
    }

    /** The one instance of {@code function} with a call outstanding; fails if there is not exactly one. */
    public synchronized FakeInstance busyOne(String function) {
        List<FakeInstance> busy = started.stream().filter(i -> i.key().function().equals(function) && i.busy())
                .toList();
        if (busy.size() != 1) {
            throw new AssertionError("expected one busy instance of " + function + ", got " + busy);
        }
        return busy.get(0);
    }
}
