package io.kiln.gateway.jobs;

import io.kiln.gateway.events.EventQueue;
import io.kiln.invoker.call.CallRequest;
import io.kiln.queue.job.JobStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.nio.file.Path;
import java.sql.SQLException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Batch jobs as the gateway runs them: the store, told of every queue item's end inside the
 * transaction that records it, and a reconciler every 5 s for the ends no listener sees (an
 * item the reaper dead-lettered after its node died, one too old to start) and for any that
 * ended before this started listening. Its meters, refreshed with each reconcile:
 * {@code kiln_jobs_running} and {@code kiln_jobs_records{state=done|failed|in_flight|pending}}
 * (the running jobs' records). Every 10 min, jobs that ended longer ago than the queue's
 * retention (7 days by default) are deleted with their results.
 */
public final class Jobs implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Jobs.class.getName());
    static final long RECONCILE_SECONDS = 5;

    private final JobStore store;
    private final InputDir inputDir;
    private final ScheduledExecutorService timer;
    private volatile JobStore.Stats stats = new JobStore.Stats(0, 0, 0, 0, 0);

    public Jobs(EventQueue queue, Path inputDir, MeterRegistry registry) {
        this.store = new JobStore(queue.store(), CallRequest::newId);
        this.inputDir = new InputDir(inputDir);
        queue.onEnded(store::ended);
        Gauge.builder("kiln.jobs.running", () -> stats.running()).description("batch jobs running")
                .register(registry);
        gauge(registry, "done", () -> stats.done());
        gauge(registry, "failed", () -> stats.failed());
        gauge(registry, "in_flight", () -> stats.inFlight());
        gauge(registry, "pending", () -> stats.pending());
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kiln-jobs-reconcile");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::reconcile, 0, RECONCILE_SECONDS, TimeUnit.SECONDS);
        // Ended jobs are kept as long as the queue keeps ended items: their results with them.
        timer.scheduleWithFixedDelay(() -> sweep(queue), 1, 600, TimeUnit.SECONDS);
    }

    private void sweep(EventQueue queue) {
        try {
            int n = store.sweep(queue.store().clock().instant().minus(queue.config().retention()));
            if (n > 0) {
                LOG.log(System.Logger.Level.INFO, "jobs: swept " + n + " ended job(s) past their retention");
            }
        } catch (SQLException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "jobs: the sweeper failed: " + e.getMessage());
        }
    }

    private static void gauge(MeterRegistry registry, String state, java.util.function.Supplier<Number> value) {
        Gauge.builder("kiln.jobs.records", value).tag("state", state)
                .description("the running batch jobs' records, by state").register(registry);
    }

    private void reconcile() {
        try {
            int n = store.reconcile();
            stats = store.stats();
            if (n > 0) {
                LOG.log(System.Logger.Level.INFO, "jobs: recorded " + n + " group end(s) that no listener saw");
            }
        } catch (SQLException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "jobs: the reconciler failed: " + e.getMessage());
        }
    }

    public JobStore store() {
        return store;
    }

    public InputDir inputDir() {
        return inputDir;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
