package io.kiln.microvm.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/** A console log sink tests can wait on. */
public final class ConsoleCapture extends ByteArrayOutputStream {
    @Override
    public synchronized void write(int b) {
        super.write(b);
        notifyAll();
    }

    public synchronized String text() {
        return toString(StandardCharsets.US_ASCII);
    }

    public List<String> lines() {
        return text().lines().toList();
    }

    /** Waits until the console contains {@code needle}; throws with the log so far if it never does. */
    public synchronized void await(String needle, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!text().contains(needle)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("console never showed '" + needle + "'; log:\n" + text());
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }
}
