package io.kiln.invoker.pool;

/**
 * Where an instance is in its life. The only moves are
 * <pre>
 *   STARTING ──> BUSY (started for a call) or IDLE (started to keep a minimum)
 *   IDLE ──> BUSY (taken for a call)          BUSY ──> IDLE (a clean answer)
 *   any of the above ──> RETIRING (evicted, expired, replaced, broken, shut down)
 *   STARTING or RETIRING ──> DESTROYED (the start failed / the VM is gone)
 * </pre>
 * Every state but DESTROYED holds the instance's memory: a retiring VM still uses it until
 * its teardown has finished.
 */
public enum Lifecycle {
    STARTING, IDLE, BUSY, RETIRING, DESTROYED;

    /** Starting, idle or busy: an instance that counts towards its function's minimum and maximum. */
    public boolean live() {
        return this == STARTING || this == IDLE || this == BUSY;
    }
}
