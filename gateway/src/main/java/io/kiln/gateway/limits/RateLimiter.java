package io.kiln.gateway.limits;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * A token bucket per function: {@code rate} calls per second on average, at most {@code burst}
 * at once. A rate of 0 turns the limit off.
 */
public final class RateLimiter {

    private final double perNano;
    private final double burst;
    private final LongSupplier clock;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

    private static final class Bucket {
        double tokens;
        long lastNanos;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.lastNanos = now;
        }
    }

    /** {@code clock} gives the time in nanoseconds, as {@link System#nanoTime} does. */
    public RateLimiter(double ratePerSecond, int burst, LongSupplier clock) {
        this.perNano = ratePerSecond / 1e9;
        this.burst = burst;
        this.clock = clock;
    }

    public boolean enabled() {
        return perNano > 0;
    }

    /** Takes a token for {@code function}: null if the call may go, else how long until one is free. */
    public Duration acquire(String function) {
        if (!enabled()) {
            return null;
        }
        long now = clock.getAsLong();
        Bucket b = buckets.computeIfAbsent(function, k -> new Bucket(burst, now));
        synchronized (b) {
            b.tokens = Math.min(burst, b.tokens + (now - b.lastNanos) * perNano);
            b.lastNanos = now;
            if (b.tokens >= 1) {
                b.tokens -= 1;
                return null;
            }
            return Duration.ofNanos((long) Math.ceil((1 - b.tokens) / perNano));
        }
    }

    /** Forgets a deleted function's bucket. */
    public void forget(String function) {
        buckets.remove(function);
    }
}
