package io.kiln.microvm.devices;

import com.sun.jna.Memory;
import io.kiln.microvm.kvm.EventFd;
import io.kiln.microvm.kvm.LibC;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;

/**
 * The device thread (Firecracker's VMM event loop): waits with poll(2) on the ioeventfds the
 * guest's queue notifications signal without a vCPU exit, plus a wake-up eventfd for work
 * posted from host threads, and runs the matching handlers one at a time. {@link #pause()} waits
 * for the running handler to finish and holds further ones, so a snapshot sees quiescent devices.
 */
public final class EventLoop implements AutoCloseable {
    private record Source(EventFd fd, Runnable handler) {
    }

    private final List<Source> sources = new ArrayList<>();
    private final EventFd wake = new EventFd(true);
    private final ConcurrentLinkedQueue<Runnable> posted = new ConcurrentLinkedQueue<>();
    private final Semaphore running = new Semaphore(1);
    private volatile boolean stopped;
    private Thread thread;

    /** Registers before {@link #start()}. */
    public synchronized void add(EventFd fd, Runnable handler) {
        if (thread != null) {
            throw new IllegalStateException("event loop already started");
        }
        sources.add(new Source(fd, handler));
    }

    /** Runs {@code task} on the device thread soon. Any thread. */
    public void post(Runnable task) {
        posted.add(task);
        wake.signal();
    }

    public synchronized void start() {
        if (thread != null) {
            return;
        }
        thread = new Thread(this::loop, "kiln-devices");
        thread.setDaemon(true);
        thread.start();
    }

    public void pause() {
        running.acquireUninterruptibly();
    }

    public void resume() {
        running.release();
    }

    private void loop() {
        int n = sources.size() + 1;
        Memory fds = new Memory(8L * n);
        while (!stopped) {
            for (int i = 0; i < n; i++) {
                fds.setInt(8L * i, i == 0 ? wake.fd() : sources.get(i - 1).fd().fd());
                fds.setShort(8L * i + 4, (short) LibC.POLLIN);
                fds.setShort(8L * i + 6, (short) 0);
            }
            int rc = LibC.INSTANCE.poll(fds, n, 200);
            if (rc <= 0 || stopped) {
                continue;
            }
            running.acquireUninterruptibly();
            try {
                if (fds.getShort(6) != 0) {
                    wake.drain();
                    Runnable r;
                    while ((r = posted.poll()) != null) {
                        runSafely(r);
                    }
                }
                for (int i = 1; i < n; i++) {
                    if (fds.getShort(8L * i + 6) != 0) {
                        Source s = sources.get(i - 1);
                        s.fd().drain();
                        runSafely(s.handler());
                    }
                }
            } finally {
                running.release();
            }
        }
    }

    /** Devices report guest errors through their own state; anything else escaping is a VMM bug we log and survive. */
    private static void runSafely(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            System.err.println("kiln-devices: handler failed: " + e);
        }
    }

    /**
     * Stops the loop and waits up to {@code timeout} for its thread to end. Returns true once the
     * thread has ended (or never started): no handler runs any more, so guest memory may be
     * unmapped. False means a handler has not returned in that time; handlers never block by
     * design, so that is a VMM bug, and Java cannot stop a thread, so the caller must keep
     * everything the handler may touch (guest memory above all) alive. The wake-up eventfd is then
     * left open too, since the thread polls it.
     */
    public boolean stop(java.time.Duration timeout) {
        stopped = true;
        wake.signal();
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(timeout.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                return false;
            }
        }
        wake.close();
        return true;
    }

    @Override
    public void close() {
        stop(java.time.Duration.ofSeconds(10));
    }
}
