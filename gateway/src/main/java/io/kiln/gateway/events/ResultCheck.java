package io.kiln.gateway.events;

import io.kiln.gateway.http.Reply;
import io.kiln.queue.Failure;
import io.kiln.queue.QueueItem;

/**
 * A look at a queued call's reply before the worker records it as a success: a reply can say,
 * in its body, that part of the work failed (an {@code SQSBatchResponse} naming failed
 * records). Registered with {@link EventQueue#checkResults}; consulted for every call that
 * returned without an error.
 */
public interface ResultCheck {

    /**
     * The call failed after all: {@code failure} is recorded as the attempt's error and the
     * item is retried (or dead-lettered) by its policy, with {@code input} as its new input when
     * not null (only what is left to do).
     */
    record Retry(Failure failure, byte[] input) {
    }

    /** Null when the reply is a success as far as this check is concerned (or the item is not its business). */
    Retry check(QueueItem item, Reply reply);
}
