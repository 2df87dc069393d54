package io.kiln.invoker.pool;

import io.kiln.invoker.instance.InstanceHandle;

/**
 * One instance as the pool sees it. Mutable, and only ever touched by the {@link InstancePool}
 * that made it, inside the dispatcher's messages: other threads hold a reference to hand it back
 * (in a message to the dispatcher), never to read it.
 */
public final class PoolEntry {

    private final long seq;
    private final PoolKey key;
    private final int memoryMib;
    Lifecycle state = Lifecycle.STARTING;
    InstanceHandle handle;
    /** When it last went idle: the LRU order. */
    long idleSinceNanos;
    /**
     * Bumped on every move: a keep-alive timer armed when the instance went idle carries the
     * epoch it saw, and does nothing if the instance has moved since.
     */
    long epoch;
    /** Cancels the keep-alive timer of the current idle period; run when the instance leaves IDLE. */
    Runnable cancelKeepAlive;

    PoolEntry(long seq, PoolKey key, int memoryMib) {
        this.seq = seq;
        this.key = key;
        this.memoryMib = memoryMib;
    }

    public PoolKey key() {
        return key;
    }

    public int memoryMib() {
        return memoryMib;
    }

    public Lifecycle state() {
        return state;
    }

    /** The running instance; null while starting, and for a start that failed. */
    public InstanceHandle handle() {
        return handle;
    }

    public long epoch() {
        return epoch;
    }

    /** Sets what cancels this idle period's keep-alive timer (the pool runs it when the instance leaves IDLE). */
    public void onLeavingIdle(Runnable cancel) {
        this.cancelKeepAlive = cancel;
    }

    @Override
    public String toString() {
        return (handle == null ? "instance (starting #" + seq + ")" : handle.toString()) + " of " + key + " ["
                + state + "]";
    }
}
