package io.kiln.queue;

import java.time.Instant;

/**
 * Work to enqueue. {@code id} is chosen by the caller (the call id the 202 already names).
 *
 * @param idempotencyKey null, or a key that makes a repeated enqueue for the same function
 *                       return the first item instead of adding one
 * @param runAt          not before this; null for now
 */
public record NewItem(long id, QueueItem.Kind kind, String function, byte[] input, String httpHead,
                      String callbackUrl, String idempotencyKey, String source, RetryPolicy policy, Instant runAt) {

    public NewItem {
        if (id == 0) {
            throw new IllegalArgumentException("item id 0 is reserved");
        }
        if (kind == null || function == null || input == null || source == null || policy == null) {
            throw new IllegalArgumentException("kind, function, input, source and policy are required");
        }
        if (idempotencyKey != null && (idempotencyKey.isEmpty() || idempotencyKey.length() > 255)) {
            throw new IllegalArgumentException("an idempotency key is 1 to 255 characters, got "
                    + idempotencyKey.length());
        }
    }

    /** An async call of {@code function}. */
    public static NewItem call(long id, String function, byte[] input, String httpHead, String callbackUrl,
                               String idempotencyKey, String source, RetryPolicy policy) {
        return new NewItem(id, QueueItem.Kind.CALL, function, input, httpHead, callbackUrl, idempotencyKey, source,
                policy, null);
    }
}
