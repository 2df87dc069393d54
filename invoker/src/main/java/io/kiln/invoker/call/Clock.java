package io.kiln.invoker.call;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Time as the dispatcher sees it: now, and "run this later". The real one is the JVM's
 * monotonic clock and a scheduled executor; tests use a fake one they advance by hand.
 * Scheduled tasks must be quick (the dispatcher's only post a message to its mailbox).
 */
public interface Clock {

    long nanoTime();

    /** Runs {@code task} after {@code delay}; the returned handle cancels it. */
    Cancellable schedule(Duration delay, Runnable task);

    interface Cancellable {
        void cancel();
    }

    static Clock system(ScheduledExecutorService timer) {
        return new Clock() {
            @Override
            public long nanoTime() {
                return System.nanoTime();
            }

            @Override
            public Cancellable schedule(Duration delay, Runnable task) {
                ScheduledFuture<?> f = timer.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
                return () -> f.cancel(false);
            }
        };
    }
}
