package io.kiln.microvm.bench;

import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A console sink that notes, with {@link System#nanoTime()}, when the first byte arrives and
 * counts the rest. The Java engine's UART writes into it from the vCPU thread; for QEMU a pump
 * thread feeds it QEMU's stdout.
 */
final class ConsoleProbe extends OutputStream {
    private final CountDownLatch first = new CountDownLatch(1);
    private volatile long firstNanos;
    private volatile int firstByte = -1;
    private volatile long count;

    @Override
    public void write(int b) {
        arrived(b, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        if (len > 0) {
            arrived(b[off], len);
        }
    }

    // One writer at a time (a vCPU thread or the pump), so the plain volatile increment is enough.
    private void arrived(int b, int n) {
        if (count == 0) {
            firstNanos = System.nanoTime();
            firstByte = b & 0xff;
            first.countDown();
        }
        count += n;
    }

    /** When the first byte arrived; throws if none did within {@code timeout}. */
    long awaitFirst(Duration timeout) throws InterruptedException, TimeoutException {
        if (!first.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new TimeoutException("no console byte within " + timeout.toMillis() + " ms");
        }
        return firstNanos;
    }

    /** Waits until at least {@code n} bytes have arrived (for letting a source guest settle into its loop). */
    void awaitCount(long n, Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (count < n) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("only " + count + " of " + n + " console bytes within " + timeout.toMillis() + " ms");
            }
            Thread.sleep(1);
        }
    }

    int firstByte() {
        return firstByte;
    }

    long count() {
        return count;
    }
}
