package io.kiln.invoker.testing;

import java.time.Duration;
import java.util.function.Supplier;

/** Waits, bounded, for state that settles asynchronously (evictions, destroyed VMs). */
public final class Await {

    private Await() {
    }

    /** Polls {@code actual} until it equals {@code expected}; fails with the last value seen. */
    public static <T> void until(Duration timeout, T expected, Supplier<T> actual, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        T last = actual.get();
        while (!expected.equals(last)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": expected " + expected + " within " + timeout.toMillis()
                        + " ms, still " + last);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            last = actual.get();
        }
    }
}
