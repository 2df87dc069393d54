package io.kiln.gateway.events;

import io.kiln.gateway.calls.Callbacks;
import io.kiln.invoker.Invoker;
import io.kiln.queue.QueueStore;
import io.kiln.queue.db.Database;
import io.micrometer.core.instrument.MeterRegistry;

import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The durable queue as the gateway runs it, and the one owner of its parts: the store, this
 * node's worker, and the periodic work (lease heartbeat every third of a lease, the reaper and
 * the stats every 5 s, the retention sweeper every 10 min).
 */
public final class EventQueue implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(EventQueue.class.getName());

    private final QueueConfig config;
    private final Database db;
    private final QueueStore store;
    private final QueueWorker worker;
    private final QueueMetrics metrics;
    private final ScheduledExecutorService timers;

    private EventQueue(QueueConfig config, Database db, QueueStore store, QueueWorker worker, QueueMetrics metrics) {
        this.config = config;
        this.db = db;
        this.store = store;
        this.worker = worker;
        this.metrics = metrics;
        this.timers = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kiln-queue-timers");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Opens the store (migrating its schema), rescues the work this node's previous process left
     * running, and starts the worker.
     */
    public static EventQueue start(QueueConfig config, Invoker invoker, Callbacks callbacks, MeterRegistry registry,
                                   Clock clock) throws SQLException {
        Database db = Database.open(config.url(), 8);
        try {
            QueueStore store = new QueueStore(db, clock, config.node(), new Random());
            QueueMetrics metrics = new QueueMetrics(registry, clock);
            QueueWorker worker = new QueueWorker(store, invoker, callbacks, config, metrics);
            EventQueue q = new EventQueue(config, db, store, worker, metrics);
            int rescued = store.rescueOwnPrevious(worker.owner());
            LOG.log(System.Logger.Level.INFO, "queue: " + db.describe() + ", schema version " + db.schemaVersion()
                    + ", node " + config.node() + (rescued > 0 ? "; " + rescued
                    + " item(s) that were running when this node last stopped are queued again" : ""));
            store.onReady(worker::wake);
            db.listen(worker::wake);
            q.schedule();
            worker.start();
            return q;
        } catch (SQLException | RuntimeException e) {
            db.close();
            throw e;
        }
    }

    private void schedule() {
        long beat = Math.max(100, config.lease().toMillis() / 3);
        timers.scheduleWithFixedDelay(() -> quietly("renewing leases",
                () -> store.heartbeat(worker.owner(), config.lease())), beat, beat, TimeUnit.MILLISECONDS);
        timers.scheduleWithFixedDelay(() -> quietly("the reaper", () -> {
            int n = store.rescueExpired();
            if (n > 0) {
                LOG.log(System.Logger.Level.WARNING, "queue: " + n + " item(s) whose lease ran out are queued again");
            }
            metrics.stats(store.stats());
            return n;
        }), 0, 5, TimeUnit.SECONDS);
        timers.scheduleWithFixedDelay(() -> quietly("the sweeper", () -> {
            java.time.Instant now = store.clock().instant();
            int n = store.sweep(now.minus(config.retention()), now.minus(config.deadRetention()));
            if (n > 0) {
                LOG.log(System.Logger.Level.INFO, "queue: swept " + n + " ended item(s) past their retention");
            }
            return n;
        }), 1, 600, TimeUnit.SECONDS);
    }

    private interface Work {
        Object run() throws SQLException;
    }

    private static void quietly(String what, Work w) {
        try {
            w.run();
        } catch (SQLException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "queue: " + what + " failed: " + e.getMessage());
        }
    }

    /** See {@link QueueStore.EndListener}; register before work can end (at start-up). */
    public void onEnded(QueueStore.EndListener l) {
        store.onEnded(l);
    }

    /** See {@link ResultCheck}; register at start-up. */
    public void checkResults(ResultCheck c) {
        worker.checkResults(c);
    }

    public QueueStore store() {
        return store;
    }

    public QueueConfig config() {
        return config;
    }

    /** The last stats taken (every 5 s). */
    public QueueStore.Stats stats() {
        return metrics.stats();
    }

    public String describe() {
        return db.describe();
    }

    /** Stops claiming new work; items running go on to their end (the invoker's drain). */
    public void stopClaiming() {
        worker.stop();
    }

    /** Waits up to {@code d} for the items this node runs to be recorded. */
    public void awaitIdle(Duration d) {
        long deadline = System.nanoTime() + d.toNanos();
        while (worker.inFlight() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        worker.stop();
        timers.shutdownNow();
        db.close();
    }
}
