package io.kiln.invoker.call;

/**
 * What a call does when it cannot start at once (its function is at its concurrency limit, or
 * no memory is free for a new instance): wait in the function's queue, or be refused at once
 * with {@code at_capacity} so that the caller can take it to another node.
 */
public enum IfBusy {
    QUEUE,
    REFUSE
}
