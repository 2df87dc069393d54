package io.kiln.invoker.testing;

import io.kiln.invoker.instance.InstanceFailure;
import io.kiln.invoker.instance.InstanceHandle;
import io.kiln.invoker.pool.PoolKey;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.Frame;
import io.kiln.protocol.InvokeFrame;
import io.kiln.protocol.ResultFrame;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * An instance that answers only when the test says so. Its teardown finishes at once, or,
 * with {@link FakeEngine#holdTeardowns}, when the test calls {@link #finishTeardown}.
 */
public final class FakeInstance implements InstanceHandle {

    private final long id;
    private final PoolKey key;
    private final boolean holdTeardown;
    private final CompletableFuture<Void> gone = new CompletableFuture<>();
    private final List<String> inputs = new ArrayList<>();
    private CompletableFuture<Frame> pending;
    private long pendingCallId;
    private String destroyedBecause;

    FakeInstance(long id, PoolKey key, boolean holdTeardown) {
        this.id = id;
        this.key = key;
        this.holdTeardown = holdTeardown;
    }

    @Override
    public long id() {
        return id;
    }

    public PoolKey key() {
        return key;
    }

    @Override
    public synchronized CompletableFuture<Frame> send(Frame request, Duration timeout) {
        if (destroyedBecause != null) {
            return CompletableFuture.failedFuture(destroyedFailure());
        }
        if (pending != null) {
            throw new AssertionError(this + " got a second request while one was outstanding");
        }
        InvokeFrame invoke = (InvokeFrame) request;
        inputs.add(new String(invoke.body(), StandardCharsets.UTF_8));
        pendingCallId = invoke.callId();
        pending = new CompletableFuture<>();
        return pending;
    }

    /** Whether a call is waiting for this instance's answer. */
    public synchronized boolean busy() {
        return pending != null;
    }

    /** Everything this instance was asked, in order. */
    public synchronized List<String> inputs() {
        return List.copyOf(inputs);
    }

    /** Answers the outstanding call with {@code body}. */
    public void answer(String body) {
        complete(new ResultFrame(pendingCallId, "", body.getBytes(StandardCharsets.UTF_8)));
    }

    /** Answers the outstanding call with an agent ERROR of {@code code}. */
    public void answerError(String code) {
        complete(new ErrorFrame(pendingCallId, "{\"code\":\"" + code + "\",\"message\":\"" + code + "\"}",
                new byte[0]));
    }

    private void complete(Frame frame) {
        CompletableFuture<Frame> p;
        synchronized (this) {
            p = pending;
            pending = null;
        }
        if (p == null) {
            throw new AssertionError(this + " has no call to answer");
        }
        p.complete(frame);
    }

    @Override
    public void destroy(String why) {
        CompletableFuture<Frame> p;
        synchronized (this) {
            if (destroyedBecause != null) {
                return;
            }
            destroyedBecause = why;
            p = pending;
            pending = null;
        }
        if (p != null) {
            p.completeExceptionally(destroyedFailure());
        }
        if (!holdTeardown) {
            gone.complete(null);
        }
    }

    /** The VM dies on its own, as a crash would. */
    public void crash() {
        destroy("crashed");
        gone.complete(null);
    }

    /** Ends a held teardown: the VM is gone now. */
    public void finishTeardown() {
        if (destroyedBecause == null) {
            throw new AssertionError(this + " is not being destroyed");
        }
        gone.complete(null);
    }

    private InstanceFailure destroyedFailure() {
        return new InstanceFailure(InstanceFailure.Kind.DESTROYED, "instance " + id + " was destroyed: "
                + destroyedBecause, "", null);
    }

    public synchronized boolean destroyed() {
        return destroyedBecause != null;
    }

    /** Destroyed and its teardown finished. */
    public boolean isGone() {
        return gone.isDone();
    }

    @Override
    public CompletableFuture<Void> gone() {
        return gone;
    }

    @Override
    public String toString() {
        return "fake instance " + id + " of " + key;
    }
}
