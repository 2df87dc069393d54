package io.kiln.gateway.jobs;

import io.kiln.gateway.events.EventQueue;
import io.kiln.invoker.call.CallRequest;
import io.kiln.queue.job.JobStore;

import java.nio.file.Path;
import java.sql.SQLException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Batch jobs as the gateway runs them: the store, told of every queue item's end inside the
 * transaction that records it, and a reconciler every 5 s for the ends no listener sees (an
 * item the reaper dead-lettered after its node died, one too old to start) and for any that
 * ended before this started listening.
 */
public final class Jobs implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Jobs.class.getName());
    static final long RECONCILE_SECONDS = 5;

    private final JobStore store;
    private final InputDir inputDir;
    private final ScheduledExecutorService timer;

    public Jobs(EventQueue queue, Path inputDir) {
        this.store = new JobStore(queue.store(), CallRequest::newId);
        this.inputDir = new InputDir(inputDir);
        queue.onEnded(store::ended);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kiln-jobs-reconcile");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::reconcile, 0, RECONCILE_SECONDS, TimeUnit.SECONDS);
    }

    private void reconcile() {
        try {
            int n = store.reconcile();
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
