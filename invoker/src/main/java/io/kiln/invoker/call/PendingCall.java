package io.kiln.invoker.call;

import java.util.concurrent.CompletableFuture;

/**
 * A call admitted and not yet answered: the request, the caller's future, when it was
 * admitted, whether it may wait, and its queue timer while it waits. The timer field is the dispatcher's alone.
 */
final class PendingCall {

    private static final System.Logger LOG = System.getLogger(PendingCall.class.getName());

    final String function;
    final CallRequest request;
    final IfBusy ifBusy;
    final CompletableFuture<CallResult> result = new CompletableFuture<>();
    final long admittedNanos;
    Clock.Cancellable queueTimer;

    PendingCall(String function, CallRequest request, IfBusy ifBusy, long admittedNanos) {
        this.function = function;
        this.request = request;
        this.ifBusy = ifBusy;
        this.admittedNanos = admittedNanos;
    }

    void fail(CallException e) {
        result.completeExceptionally(e);
    }
}
