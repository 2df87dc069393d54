package io.kiln.gateway.events;

import io.kiln.invoker.Invoker;
import io.kiln.invoker.call.CallRequest;
import io.kiln.queue.schedule.Firing;
import io.kiln.queue.schedule.ScheduleStore;

import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * This node's schedule timer: calls {@link ScheduleStore#fireDue} at the earliest next fire time,
 * sleeping at most {@link #MAX_SLEEP} (so schedules another node creates or changes are seen
 * within it) and woken at once when this node creates or changes one. A firing only enqueues an
 * async call with the function's retry policy; the queue's worker runs it. Exactly once per fire
 * time is the store's doing, so every node may run a Scheduler.
 *
 * <p>One thread, one chain of ticks: each tick schedules the next, and {@link #wake} replaces a
 * waiting tick instead of adding one.
 */
public final class Scheduler implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Scheduler.class.getName());
    static final Duration MAX_SLEEP = Duration.ofSeconds(1);
    static final Duration SWEEP_EVERY = Duration.ofMinutes(10);

    private final ScheduleStore store;
    /** Firings are kept as long as the queue keeps ended calls, so each one's call can be looked up. */
    private final Duration retention;
    private final ScheduledExecutorService timer;
    private Instant lastSweep = Instant.EPOCH; // the timer thread's
    // Guarded by this: the waiting tick, whether one runs, and whether a wake came while it ran.
    private ScheduledFuture<?> pending;
    private boolean running;
    private boolean wakeAgain;
    private boolean closed;

    private Scheduler(ScheduleStore store, Duration retention) {
        this.store = store;
        this.retention = retention;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kiln-scheduler");
            t.setDaemon(true);
            return t;
        });
    }

    /** The schedules in the queue's store, their functions' retry policies from the invoker; started. */
    public static Scheduler start(EventQueue queue, Invoker invoker) {
        ScheduleStore store = new ScheduleStore(queue.store(),
                fn -> invoker.current(fn).map(v -> v.config().events().retry()), CallRequest::newId);
        Scheduler s = new Scheduler(store, queue.config().retention());
        s.wake();
        return s;
    }

    public ScheduleStore store() {
        return store;
    }

    /** Fire what is due now and recompute the sleep: after a schedule was created, changed or deleted. */
    public synchronized void wake() {
        if (closed) {
            return;
        }
        if (running || (pending != null && !pending.cancel(false))) {
            // A tick runs (or has just begun): it schedules the next one with no delay.
            wakeAgain = true;
            return;
        }
        pending = timer.schedule(this::tick, 0, TimeUnit.MILLISECONDS);
    }

    private void tick() {
        synchronized (this) {
            running = true;
            wakeAgain = false;
        }
        Duration sleep = MAX_SLEEP;
        try {
            for (Firing f : store.fireDue()) {
                log(f);
            }
            sweep();
            Optional<Instant> next = store.nextFireAt();
            if (next.isPresent()) {
                Duration until = Duration.between(store.clock().instant(), next.get());
                sleep = until.isNegative() ? Duration.ZERO : until.compareTo(MAX_SLEEP) > 0 ? MAX_SLEEP : until;
            }
        } catch (SQLException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "schedules: firing failed (retried in " + MAX_SLEEP.toMillis()
                    + " ms): " + e.getMessage());
        }
        synchronized (this) {
            running = false;
            if (!closed) {
                pending = timer.schedule(this::tick, wakeAgain ? 0 : Math.max(1, sleep.toMillis()),
                        TimeUnit.MILLISECONDS);
            }
            wakeAgain = false;
        }
    }

    private void sweep() throws SQLException {
        Instant now = store.clock().instant();
        if (Duration.between(lastSweep, now).compareTo(SWEEP_EVERY) < 0) {
            return;
        }
        lastSweep = now;
        int n = store.sweepFirings(now.minus(retention));
        if (n > 0) {
            LOG.log(System.Logger.Level.INFO, "schedules: swept " + n + " firing(s) past the queue's retention");
        }
    }

    private static void log(Firing f) {
        String what = "schedule " + f.schedule() + ", fire time " + f.fireTime() + ": ";
        switch (f.outcome()) {
            case ENQUEUED -> LOG.log(System.Logger.Level.INFO, what + "enqueued call "
                    + CallRequest.format(f.callId()) + (f.reason() == null ? "" : " (" + f.reason() + ")"));
            case SKIPPED -> LOG.log(System.Logger.Level.INFO, what + "skipped: " + f.reason());
            case MISSED -> LOG.log(System.Logger.Level.WARNING, what + f.reason());
        }
    }

    /** Stops firing; waits (briefly) for a tick under way, so the store is not closed under it. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            if (pending != null) {
                pending.cancel(false);
            }
        }
        timer.shutdown();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
