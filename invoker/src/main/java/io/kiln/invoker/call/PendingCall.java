package io.kiln.invoker.call;

import java.util.concurrent.CompletableFuture;

/**
 * A call admitted and not yet answered: the request, the caller's future, when it was
 * admitted, and its queue timer while it waits. The timer field is the dispatcher's alone.
 */
final class PendingCall {

    private static final System.Logger LOG = System.getLogger(PendingCall.class.getName());

    final String function;
    final CallRequest request;
    final Runnable onDispatch;
    final CompletableFuture<CallResult> result = new CompletableFuture<>();
    final long admittedNanos;
    Clock.Cancellable queueTimer;

    PendingCall(String function, CallRequest request, Runnable onDispatch, long admittedNanos) {
        this.function = function;
        this.request = request;
        this.onDispatch = onDispatch;
        this.admittedNanos = admittedNanos;
    }

    /** The call left the queue for an instance: the caller's callback, which must be quick. */
    void dispatched() {
        if (onDispatch != null) {
            try {
                onDispatch.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "a dispatch callback failed: " + e);
            }
        }
    }

    void fail(CallException e) {
        result.completeExceptionally(e);
    }
}
