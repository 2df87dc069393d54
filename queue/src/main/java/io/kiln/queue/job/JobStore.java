package io.kiln.queue.job;

import io.kiln.queue.NewItem;
import io.kiln.queue.QueueItem;
import io.kiln.queue.QueueStore;
import io.kiln.queue.RetryPolicy;
import io.kiln.queue.db.Database;
import io.kiln.queue.db.Dialect;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Batch jobs on the queue. A job's groups wait in {@code job_groups}; at most
 * {@code maxConcurrency} of them are queue items at once (so a job's concurrency needs nothing
 * of the queue's claim). When a group's item ends, {@link #ended} records the group's result or
 * error, moves the job's counters and feeds the next group, all inside the transaction that
 * records the item's end: a crash can neither lose progress nor count it twice.
 *
 * <p>Every method that takes no {@link Connection} makes its own transaction and blocks on the
 * store; callers off the store's threads use {@link Database#submit}.
 */
public final class JobStore {

    static final String JOB_COLUMNS = "id, function_name, state, records_per_call, max_concurrency, tolerate_kind,"
            + " tolerate_value, max_retries, backoff_base_ms, backoff_max_ms, max_age_ms, total_records, groups_total,"
            + " records_done, records_failed, groups_queued, records_queued, records_cancelled, duplicates,"
            + " stop_reason, created_at, finished_at";
    static final String GROUP_COLUMNS = "job_id, idx, first_record, records, input, state, output, error_code,"
            + " error_message, error_type, attempts";
    /** Groups' rows written per JDBC batch when a job is submitted. */
    static final int INSERT_BATCH = 500;

    private final QueueStore queue;
    private final Database db;
    private final LongSupplier ids;

    /** @param ids new queue item ids (random, never 0: {@code CallRequest::newId}) */
    public JobStore(QueueStore queue, LongSupplier ids) {
        this.queue = queue;
        this.db = queue.database();
        this.ids = ids;
    }

    public static String format(long id) {
        return String.format("%016x", id);
    }

    /** The queue item source of a job's calls. */
    public static String source(long jobId) {
        return "job:" + format(jobId);
    }

    // ---- submit --------------------------------------------------------------------------

    /** Stores the job and all its groups, and enqueues the first ones: all in one transaction. */
    public Job create(NewJob j) throws SQLException {
        Job job = db.transaction(c -> {
            long now = queue.clock().millis();
            try (PreparedStatement s = c.prepareStatement("INSERT INTO jobs (" + JOB_COLUMNS + ") VALUES (?, ?,"
                    + " 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, 0, NULL, ?, NULL)")) {
                s.setLong(1, j.id());
                s.setString(2, j.function());
                s.setInt(3, j.recordsPerCall());
                s.setInt(4, j.maxConcurrency());
                s.setString(5, j.tolerance().kind().sql());
                s.setLong(6, j.tolerance().value());
                RetryPolicy p = j.policy();
                s.setInt(7, p.maxRetries());
                s.setLong(8, p.backoffBase().toMillis());
                s.setLong(9, p.backoffMax().toMillis());
                s.setLong(10, p.maxAge().toMillis());
                s.setLong(11, j.totalRecords());
                s.setLong(12, j.groups().size());
                s.setLong(13, now);
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO job_groups (job_id, idx, first_record, records,"
                    + " input, state, item_id, generation, attempts) VALUES (?, ?, ?, ?, ?, 'pending', NULL, 0, 0)")) {
                for (int i = 0; i < j.groups().size(); i++) {
                    s.setLong(1, j.id());
                    s.setLong(2, i);
                    s.setLong(3, (long) i * j.recordsPerCall());
                    s.setInt(4, j.records(i));
                    s.setBytes(5, j.groups().get(i));
                    s.addBatch();
                    if ((i + 1) % INSERT_BATCH == 0) {
                        s.executeBatch();
                    }
                }
                s.executeBatch();
            }
            feed(c, j.id());
            return get(c, j.id());
        });
        queue.wake();
        return job;
    }

    /**
     * Enqueues pending groups, lowest index first, until the job has {@code maxConcurrency}
     * groups queued (none once it has stopped). Returns how many it enqueued.
     */
    private int feed(Connection c, long jobId) throws SQLException {
        Job job = lock(c, jobId);
        if (job == null || job.state() != Job.State.RUNNING) {
            return 0;
        }
        long room = job.maxConcurrency() - queuedGroups(c, jobId);
        if (room <= 0) {
            return 0;
        }
        record Pending(long idx, int records, byte[] input, int generation) {
        }
        List<Pending> next = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT idx, records, input, generation FROM job_groups"
                + " WHERE job_id = ? AND state = 'pending' ORDER BY idx LIMIT ?")) {
            s.setLong(1, jobId);
            s.setLong(2, room);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    next.add(new Pending(r.getLong(1), r.getInt(2), r.getBytes(3), r.getInt(4)));
                }
            }
        }
        long records = 0;
        try (PreparedStatement s = c.prepareStatement("UPDATE job_groups SET state = 'queued', item_id = ?,"
                + " generation = generation + 1 WHERE job_id = ? AND idx = ?")) {
            for (Pending p : next) {
                // The key makes a second enqueue of the same feeding a no-op, whatever happens.
                String key = source(jobId) + ":" + p.idx() + (p.generation() == 0 ? "" : ":" + p.generation());
                long item = queue.enqueue(c, NewItem.call(ids.getAsLong(), job.function(), p.input(), null, null, key,
                        source(jobId), job.policy())).item().id();
                s.setLong(1, item);
                s.setLong(2, jobId);
                s.setLong(3, p.idx());
                s.executeUpdate();
                records += p.records();
            }
        }
        add(c, jobId, "groups_queued", next.size(), "records_queued", records);
        return next.size();
    }

    private static long queuedGroups(Connection c, long jobId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT groups_queued FROM jobs WHERE id = ?")) {
            s.setLong(1, jobId);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getLong(1) : 0;
            }
        }
    }

    // ---- a group's end -------------------------------------------------------------------

    /**
     * A queue item ended for good (succeeded or dead), inside the transaction that records it.
     * Anything not a job's item is ignored. An item of a group that had already ended (its dead
     * letter re-driven by hand) counts as duplicates.
     */
    public void ended(Connection c, QueueItem item) throws SQLException {
        if (!item.source().startsWith("job:") || !item.state().ended()) {
            return;
        }
        end(c, item, true);
    }

    private void end(Connection c, QueueItem item, boolean fromListener) throws SQLException {
        long jobId;
        long idx;
        int records;
        String state;
        try (PreparedStatement s = c.prepareStatement("SELECT job_id, idx, records, state FROM job_groups"
                + " WHERE item_id = ?")) {
            s.setLong(1, item.id());
            try (ResultSet r = s.executeQuery()) {
                if (!r.next()) {
                    return;
                }
                jobId = r.getLong(1);
                idx = r.getLong(2);
                records = r.getInt(3);
                state = r.getString(4);
            }
        }
        if (!state.equals("queued")) {
            if (fromListener) {
                add(c, jobId, "duplicates", records, null, 0);
            }
            return;
        }
        boolean ok = item.state() == QueueItem.State.SUCCEEDED;
        long now = queue.clock().millis();
        try (PreparedStatement s = c.prepareStatement("UPDATE job_groups SET state = ?, output = ?, error_code = ?,"
                + " error_message = ?, error_type = ?, attempts = ?, ended_at = ? WHERE job_id = ? AND idx = ?"
                + " AND state = 'queued'")) {
            s.setString(1, ok ? "succeeded" : "failed");
            s.setBytes(2, ok ? item.result() : null);
            s.setString(3, ok ? null : item.state() == QueueItem.State.CANCELLED ? "cancelled" : item.errorCode());
            s.setString(4, ok ? null : item.state() == QueueItem.State.CANCELLED ? "its queue item was cancelled"
                    : item.errorMessage());
            s.setString(5, ok ? null : item.errorType());
            s.setInt(6, item.attempt());
            s.setLong(7, now);
            s.setLong(8, jobId);
            s.setLong(9, idx);
            if (s.executeUpdate() == 0) {
                return; // another node's reconciler recorded this end first
            }
        }
        long interrupted;
        try (PreparedStatement s = c.prepareStatement("SELECT COUNT(*) FROM queue_attempts WHERE item_id = ?"
                + " AND outcome = 'interrupted'")) {
            s.setLong(1, item.id());
            try (ResultSet r = s.executeQuery()) {
                r.next();
                interrupted = r.getLong(1);
            }
        }
        try (PreparedStatement s = c.prepareStatement("UPDATE jobs SET " + (ok ? "records_done" : "records_failed")
                + " = " + (ok ? "records_done" : "records_failed") + " + ?, groups_queued = groups_queued - 1,"
                + " records_queued = records_queued - ?, duplicates = duplicates + ? WHERE id = ?")) {
            s.setLong(1, records);
            s.setLong(2, records);
            s.setLong(3, interrupted * records);
            s.setLong(4, jobId);
            s.executeUpdate();
        }
        Job job = lock(c, jobId);
        if (job.state() != Job.State.RUNNING) {
            return;
        }
        if (!ok && job.tolerance().exceededBy(job.failed(), job.total())) {
            stop(c, jobId, Job.State.FAILED, job.tolerance().stopReason(job.failed(), job.total()));
        } else if (job.done() + job.failed() == job.total()) {
            try (PreparedStatement s = c.prepareStatement("UPDATE jobs SET state = 'succeeded', finished_at = ?"
                    + " WHERE id = ? AND state = 'running'")) {
                s.setLong(1, now);
                s.setLong(2, jobId);
                s.executeUpdate();
            }
        } else {
            feed(c, jobId);
        }
    }

    /**
     * Records the ends that no listener saw: items the reaper dead-lettered when a node died
     * with no retries left, or that outlived their maximum age before they were claimed.
     * Returns how many groups it ended.
     */
    public int reconcile() throws SQLException {
        List<Long> items = db.transaction(c -> {
            List<Long> out = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT g.item_id FROM job_groups g JOIN queue_items q"
                    + " ON q.id = g.item_id WHERE g.state = 'queued' AND q.state IN ('succeeded', 'dead', 'cancelled')"
                    + " ORDER BY g.item_id LIMIT 1000")) {
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        out.add(r.getLong(1));
                    }
                }
            }
            return out;
        });
        for (long id : items) {
            db.transaction(c -> {
                QueueItem item = queue.get(c, id);
                if (item != null && item.state().ended()) {
                    end(c, item, false);
                }
                return null;
            });
        }
        if (!items.isEmpty()) {
            queue.wake();
        }
        return items.size();
    }

    // ---- stop, cancel, redrive -----------------------------------------------------------

    /**
     * Stops a running job: its pending groups and its queued items that have not started are
     * cancelled; calls already running finish and are recorded. False if it was not running.
     */
    private boolean stop(Connection c, long jobId, Job.State state, String reason) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE jobs SET state = ?, stop_reason = ?, finished_at = ?"
                + " WHERE id = ? AND state = 'running'")) {
            s.setString(1, state.sql());
            s.setString(2, reason);
            s.setLong(3, queue.clock().millis());
            s.setLong(4, jobId);
            if (s.executeUpdate() == 0) {
                return false;
            }
        }
        long cancelled = sum(c, "SELECT COALESCE(SUM(records), 0) FROM job_groups WHERE job_id = ?"
                + " AND state = 'pending'", jobId);
        try (PreparedStatement s = c.prepareStatement("UPDATE job_groups SET state = 'cancelled' WHERE job_id = ?"
                + " AND state = 'pending'")) {
            s.setLong(1, jobId);
            s.executeUpdate();
        }
        record Queued(long idx, long item, int records) {
        }
        List<Queued> queued = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT idx, item_id, records FROM job_groups WHERE job_id = ?"
                + " AND state = 'queued' ORDER BY idx")) {
            s.setLong(1, jobId);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    queued.add(new Queued(r.getLong(1), r.getLong(2), r.getInt(3)));
                }
            }
        }
        long groups = 0;
        long records = 0;
        try (PreparedStatement s = c.prepareStatement("UPDATE job_groups SET state = 'cancelled', ended_at = ?"
                + " WHERE job_id = ? AND idx = ?")) {
            for (Queued q : queued) {
                if (queue.cancelWaiting(c, q.item())) {
                    s.setLong(1, queue.clock().millis());
                    s.setLong(2, jobId);
                    s.setLong(3, q.idx());
                    s.executeUpdate();
                    groups++;
                    records += q.records();
                }
            }
        }
        add(c, jobId, "groups_queued", -groups, "records_queued", -records);
        add(c, jobId, "records_cancelled", cancelled + records, null, 0);
        return true;
    }

    /** Cancels a running job (see {@link #stop}); false if it is unknown or not running. */
    public boolean cancel(long jobId) throws SQLException {
        return db.transaction(c -> lock(c, jobId) != null && stop(c, jobId, Job.State.CANCELLED, "cancelled by user"));
    }

    /**
     * Feeds a job's failed groups again, and the groups a stop left unrun: the job runs again
     * (its failure tolerance now counting only what fails from here). Returns the records
     * re-driven; 0 leaves the job as it was.
     */
    public long redrive(long jobId) throws SQLException {
        long n = db.transaction(c -> {
            if (lock(c, jobId) == null) {
                return 0L;
            }
            long failed = sum(c, "SELECT COALESCE(SUM(records), 0) FROM job_groups WHERE job_id = ?"
                    + " AND state = 'failed'", jobId);
            long cancelled = sum(c, "SELECT COALESCE(SUM(records), 0) FROM job_groups WHERE job_id = ?"
                    + " AND state = 'cancelled'", jobId);
            if (failed + cancelled == 0) {
                return 0L;
            }
            try (PreparedStatement s = c.prepareStatement("UPDATE job_groups SET state = 'pending', output = NULL,"
                    + " error_code = NULL, error_message = NULL, error_type = NULL, attempts = 0, ended_at = NULL"
                    + " WHERE job_id = ? AND state IN ('failed', 'cancelled')")) {
                s.setLong(1, jobId);
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("UPDATE jobs SET state = 'running', stop_reason = NULL,"
                    + " finished_at = NULL, records_failed = records_failed - ?, records_cancelled = records_cancelled - ?"
                    + " WHERE id = ?")) {
                s.setLong(1, failed);
                s.setLong(2, cancelled);
                s.setLong(3, jobId);
                s.executeUpdate();
            }
            feed(c, jobId);
            return failed + cancelled;
        });
        if (n > 0) {
            queue.wake();
        }
        return n;
    }

    /**
     * Deletes the jobs that ended before {@code before}, with their records and results, unless
     * something of them still runs. Returns how many jobs.
     */
    public int sweep(Instant before) throws SQLException {
        return db.transaction(c -> {
            String ended = "SELECT id FROM jobs WHERE state <> 'running' AND records_queued = 0 AND finished_at < ?";
            try (PreparedStatement s = c.prepareStatement("DELETE FROM job_groups WHERE job_id IN (" + ended + ")")) {
                s.setLong(1, before.toEpochMilli());
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("DELETE FROM jobs WHERE id IN (" + ended + ")")) {
                s.setLong(1, before.toEpochMilli());
                return s.executeUpdate();
            }
        });
    }

    // ---- reading -------------------------------------------------------------------------

    public Job get(long jobId) throws SQLException {
        return db.transaction(c -> get(c, jobId));
    }

    public Job get(Connection c, long jobId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + JOB_COLUMNS + " FROM jobs WHERE id = ?")) {
            s.setLong(1, jobId);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? job(r) : null;
            }
        }
    }

    /** The job, its row locked until the transaction ends (PostgreSQL): one feeder per job at a time. */
    private Job lock(Connection c, long jobId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + JOB_COLUMNS + " FROM jobs WHERE id = ?"
                + (db.dialect() == Dialect.POSTGRES ? " FOR UPDATE" : ""))) {
            s.setLong(1, jobId);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? job(r) : null;
            }
        }
    }

    /** The newest jobs first, at most {@code limit}. */
    public List<Job> list(int limit) throws SQLException {
        return db.transaction(c -> {
            List<Job> out = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT " + JOB_COLUMNS + " FROM jobs"
                    + " ORDER BY created_at DESC, id DESC LIMIT ?")) {
                s.setInt(1, limit);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        out.add(job(r));
                    }
                }
            }
            return out;
        });
    }

    /** Records of the job's groups that ended at or after {@code since} (for its rate). */
    public long endedSince(long jobId, Instant since) throws SQLException {
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT COALESCE(SUM(records), 0) FROM job_groups"
                    + " WHERE job_id = ? AND ended_at >= ? AND state IN ('succeeded', 'failed')")) {
                s.setLong(1, jobId);
                s.setLong(2, since.toEpochMilli());
                try (ResultSet r = s.executeQuery()) {
                    r.next();
                    return r.getLong(1);
                }
            }
        });
    }

    /**
     * One page of a job's groups in {@code state} (succeeded or failed), in index order after
     * {@code afterIndex} (-1 from the start): the results and failures are streamed page by page.
     */
    public List<JobGroup> groups(long jobId, String state, long afterIndex, int limit) throws SQLException {
        return db.transaction(c -> {
            List<JobGroup> out = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT " + GROUP_COLUMNS + " FROM job_groups"
                    + " WHERE job_id = ? AND state = ? AND idx > ? ORDER BY idx LIMIT ?")) {
                s.setLong(1, jobId);
                s.setString(2, state);
                s.setLong(3, afterIndex);
                s.setInt(4, limit);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        out.add(new JobGroup(r.getLong(1), r.getLong(2), r.getLong(3), r.getInt(4), r.getBytes(5),
                                r.getString(6), r.getBytes(7), r.getString(8), r.getString(9), r.getString(10),
                                r.getInt(11)));
                    }
                }
            }
            return out;
        });
    }

    /** The running jobs at a glance, for metrics: how many, and their records by state. */
    public record Stats(long running, long total, long done, long failed, long inFlight) {

        public long pending() {
            return total - done - failed - inFlight;
        }
    }

    public Stats stats() throws SQLException {
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT COUNT(*), COALESCE(SUM(total_records), 0),"
                    + " COALESCE(SUM(records_done), 0), COALESCE(SUM(records_failed), 0),"
                    + " COALESCE(SUM(records_queued), 0) FROM jobs WHERE state = 'running'");
                 ResultSet r = s.executeQuery()) {
                r.next();
                return new Stats(r.getLong(1), r.getLong(2), r.getLong(3), r.getLong(4), r.getLong(5));
            }
        });
    }

    // ---- rows ----------------------------------------------------------------------------

    private static void add(Connection c, long jobId, String column, long n, String column2, long n2)
            throws SQLException {
        String sql = "UPDATE jobs SET " + column + " = " + column + " + ?"
                + (column2 == null ? "" : ", " + column2 + " = " + column2 + " + ?") + " WHERE id = ?";
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setLong(1, n);
            if (column2 == null) {
                s.setLong(2, jobId);
            } else {
                s.setLong(2, n2);
                s.setLong(3, jobId);
            }
            s.executeUpdate();
        }
    }

    private static long sum(Connection c, String sql, long jobId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setLong(1, jobId);
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return r.getLong(1);
            }
        }
    }

    private static Job job(ResultSet r) throws SQLException {
        RetryPolicy p = new RetryPolicy(r.getInt("max_retries"), Duration.ofMillis(r.getLong("backoff_base_ms")),
                Duration.ofMillis(r.getLong("backoff_max_ms")), Duration.ofMillis(r.getLong("max_age_ms")));
        long finished = r.getLong("finished_at");
        Instant finishedAt = r.wasNull() ? null : Instant.ofEpochMilli(finished);
        return new Job(r.getLong("id"), r.getString("function_name"), Job.State.of(r.getString("state")),
                r.getInt("records_per_call"), r.getInt("max_concurrency"),
                new Tolerance(Tolerance.Kind.of(r.getString("tolerate_kind")), r.getLong("tolerate_value")), p,
                r.getLong("total_records"), r.getLong("groups_total"), r.getLong("records_done"),
                r.getLong("records_failed"), r.getLong("records_queued"), r.getLong("records_cancelled"),
                r.getLong("duplicates"), r.getString("stop_reason"), Instant.ofEpochMilli(r.getLong("created_at")),
                finishedAt);
    }
}
