package io.kiln.queue;

import java.time.Instant;

/**
 * One queue item as stored. Immutable: the store's answer at one moment.
 *
 * @param httpHead   the async request's HTTP head as JSON, or null
 * @param attempt    attempts since the item was enqueued or last re-driven
 * @param leaseNode  the node running it (state RUNNING), else the last one that did, or null
 * @param result     SUCCEEDED: the function's reply, as JSON bytes
 * @param errorCode  the last failed attempt's error code (DEAD: why it is dead), or null
 */
public record QueueItem(long id, Kind kind, String function, State state, byte[] input, String httpHead,
                        String callbackUrl, String idempotencyKey, String source, RetryPolicy policy, int attempt,
                        int attemptsTotal, Instant runAt, Instant createdAt, Instant startedAt, Instant finishedAt,
                        String leaseNode, byte[] result, String errorCode, String errorMessage,
                        String errorType) {

    public enum Kind {
        /** Invoke {@code function} with {@code input}. */
        CALL,
        /** POST {@code input} (an ended call's record) to {@code callbackUrl}. */
        CALLBACK;

        String sql() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static Kind of(String s) {
            return valueOf(s.toUpperCase(java.util.Locale.ROOT));
        }
    }

    public enum State {
        /** Waiting for {@code runAt}, then for a worker. */
        AVAILABLE,
        /** A worker holds its lease. */
        RUNNING,
        SUCCEEDED,
        /** Out of attempts, too old, or failed in a way no retry fixes: a dead letter, until re-driven. */
        DEAD,
        /** Cancelled before it ran (a cancelled batch job's records). */
        CANCELLED;

        public String sql() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static State of(String s) {
            return valueOf(s.toUpperCase(java.util.Locale.ROOT));
        }

        public boolean ended() {
            return this == SUCCEEDED || this == DEAD || this == CANCELLED;
        }
    }
}
