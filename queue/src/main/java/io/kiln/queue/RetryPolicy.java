package io.kiln.queue;

import java.time.Duration;

/**
 * How a queue item is retried, copied into the item when it is enqueued (so a worker, the
 * lease reaper and another node all apply the same rule without looking the function up).
 *
 * @param maxRetries  attempts after the first; 0 runs the work at most once, never again, not
 *                    even when its node died during the attempt
 * @param backoffBase the delay before the first retry; retry n waits {@code base * 2^(n-1)},
 *                    capped at {@code backoffMax}, then jittered down by up to half (so that
 *                    retries of work that failed together spread out)
 * @param backoffMax  the longest delay between attempts
 * @param maxAge      work older than this is dead-lettered rather than started or retried;
 *                    {@link Duration#ZERO} for no limit
 */
public record RetryPolicy(int maxRetries, Duration backoffBase, Duration backoffMax, Duration maxAge) {

    public static final int MAX_RETRIES = 100;
    public static final Duration MAX_AGE = Duration.ofDays(14);
    /** Lambda's defaults for async calls: 2 retries, 6 hours; backoff from 1 s to 5 min. */
    public static final RetryPolicy DEFAULT = new RetryPolicy(2, Duration.ofSeconds(1), Duration.ofMinutes(5),
            Duration.ofHours(6));

    public RetryPolicy {
        if (maxRetries < 0 || maxRetries > MAX_RETRIES) {
            throw new IllegalArgumentException("maxRetries must be between 0 and " + MAX_RETRIES + ", got "
                    + maxRetries);
        }
        if (backoffBase == null || backoffBase.toMillis() < 1 || backoffBase.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("backoff must be between 1 ms and 1 h, got " + millis(backoffBase));
        }
        if (backoffMax == null || backoffMax.compareTo(backoffBase) < 0 || backoffMax.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalArgumentException("maxBackoff must be between backoff (" + backoffBase.toMillis()
                    + " ms) and 24 h, got " + millis(backoffMax));
        }
        if (maxAge == null || maxAge.isNegative() || maxAge.compareTo(MAX_AGE) > 0) {
            throw new IllegalArgumentException("maxEventAge must be between 0 (no limit) and 14 days, got "
                    + millis(maxAge));
        }
        backoffBase = Duration.ofMillis(backoffBase.toMillis());
        backoffMax = Duration.ofMillis(backoffMax.toMillis());
        maxAge = Duration.ofMillis(maxAge.toMillis());
    }

    private static String millis(Duration d) {
        return d == null ? "nothing" : d.toMillis() + " ms";
    }

    /**
     * The delay before retry {@code n} (1 for the first retry), given a uniform random number in
     * [0, 1): {@code min(max, base * 2^(n-1))}, times a factor in [0.5, 1).
     */
    public Duration delayBefore(int n, double random) {
        if (n < 1) {
            throw new IllegalArgumentException("retry numbers start at 1, got " + n);
        }
        long base = backoffBase.toMillis();
        long cap = backoffMax.toMillis();
        long d = n > 40 ? cap : Math.min(cap, base << Math.min(n - 1, 40));
        if (d < 0) {
            d = cap;
        }
        return Duration.ofMillis(Math.max(1, (long) (d * (0.5 + random / 2))));
    }

    public boolean hasMaxAge() {
        return !maxAge.isZero();
    }
}
