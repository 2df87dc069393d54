package io.kiln.invoker.instance;

import io.kiln.protocol.Frame;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * What the dispatcher needs of a ready instance: send it a request, let it go, and hear when
 * it is really gone. {@link Instance} is the real one; tests drive the dispatcher with fakes.
 */
public interface InstanceHandle {

    long id();

    /**
     * Sends a request and completes with the agent's answer (a RESULT or an ERROR for INVOKE),
     * or fails with {@link InstanceFailure} when the instance dies, misbehaves or misses
     * {@code timeout}; a failed instance is being destroyed by then.
     */
    CompletableFuture<Frame> send(Frame request, Duration timeout);

    /**
     * Starts destroying the instance and returns at once: an outstanding request fails as
     * {@link InstanceFailure.Kind#DESTROYED} first, then the VM is torn down on another thread.
     * Idempotent.
     */
    void destroy(String why);

    /**
     * Completes once the VM is torn down for good (destroyed by the host or stopped on its
     * own and cleaned up): only then is its memory free.
     */
    CompletableFuture<Void> gone();

    /** How long this instance took to start, engine and agent apart; {@link StartPhases#NONE} if unknown. */
    default StartPhases startPhases() {
        return StartPhases.NONE;
    }
}
