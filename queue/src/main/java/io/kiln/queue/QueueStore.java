package io.kiln.queue;

import io.kiln.queue.db.Database;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.random.RandomGenerator;

/**
 * The queue's operations, each one transaction. Modelled on River's job lifecycle (read for
 * design, not code): available → running (a worker's lease) → succeeded, or back to available
 * with a backoff, or dead; a reaper returns the items of a worker whose lease ran out.
 *
 * <p>Delivery is at least once: an attempt that was running when its node died is run again
 * (unless the item's retries are 0) and the duplicate is visible in its attempts. Every method
 * blocks on the store; callers off the store's threads use {@link Database#submit}.
 *
 * <p>Leases: a claim gives the worker {@code lease} of ownership; {@link #heartbeat} renews all
 * of one worker's leases at once. A completion names the owner, so a worker whose lease was
 * taken over cannot overwrite the new attempt's outcome.
 */
public final class QueueStore {

    static final String COLUMNS = "id, kind, function_name, state, input, http_head, callback_url, idempotency_key,"
            + " source, max_retries, backoff_base_ms, backoff_max_ms, max_age_ms, attempt, attempts_total, run_at,"
            + " created_at, started_at, finished_at, lease_node, result, error_code, error_message, error_type";

    private final Database db;
    private final Clock clock;
    private final String node;
    private final RandomGenerator random;
    private final List<Runnable> readyListeners = new CopyOnWriteArrayList<>();
    private final List<EndListener> endListeners = new CopyOnWriteArrayList<>();

    /**
     * @param node   this node's name, recorded on each attempt
     * @param random draws the backoff jitter
     */
    public QueueStore(Database db, Clock clock, String node, RandomGenerator random) {
        this.db = db;
        this.clock = clock;
        this.node = node;
        this.random = random;
    }

    public Database database() {
        return db;
    }

    public String node() {
        return node;
    }

    public Clock clock() {
        return clock;
    }

    /**
     * Told of every item that ends for good (succeeded, or dead: out of retries, too old, failed
     * in a way no retry fixes, interrupted with retries off), inside the transaction that
     * records it, whoever records it: a worker, the lease reaper, a claim that finds it too old.
     * What a listener writes (a callback, a destination's call, a batch job's progress) commits
     * with the outcome, or not at all.
     */
    public interface EndListener {
        void ended(Connection c, QueueItem item) throws SQLException;
    }

    /** Register before work can end (at start-up). */
    public void onEnded(EndListener l) {
        endListeners.add(l);
    }

    private void ended(Connection c, long id) throws SQLException {
        if (!endListeners.isEmpty()) {
            QueueItem item = get(c, id);
            for (EndListener l : endListeners) {
                l.ended(c, item);
            }
        }
    }

    /** Called after a commit that made work ready on this node; other nodes hear of it by NOTIFY. */
    public void onReady(Runnable listener) {
        readyListeners.add(listener);
    }

    private void ready() {
        for (Runnable r : readyListeners) {
            r.run();
        }
    }

    // ---- enqueue -----------------------------------------------------------------------------

    /** The item enqueued, or the one that already had its idempotency key ({@code existing}). */
    public record Enqueued(QueueItem item, boolean existing) {
    }

    public Enqueued enqueue(NewItem item) throws SQLException {
        Enqueued e = db.transaction(c -> enqueue(c, item));
        if (!e.existing()) {
            ready();
        }
        return e;
    }

    /** Enqueues all in one transaction (a batch job's records): all or none. */
    public void enqueueAll(List<NewItem> items) throws SQLException {
        db.transaction(c -> {
            for (NewItem i : items) {
                enqueue(c, i);
            }
            return null;
        });
        ready();
    }

    /**
     * Inside the caller's transaction, so that an enqueue and the caller's own row (a schedule's
     * firing, a job's progress) commit together or not at all. The caller calls {@link #wake}
     * after its commit.
     */
    public Enqueued enqueue(Connection c, NewItem item) throws SQLException {
        long now = clock.millis();
        long runAt = item.runAt() == null ? now : item.runAt().toEpochMilli();
        RetryPolicy p = item.policy();
        try (PreparedStatement s = c.prepareStatement("INSERT INTO queue_items (" + COLUMNS + ") VALUES"
                + " (?, ?, ?, 'available', ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
                + " ON CONFLICT (function_name, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING")) {
            s.setLong(1, item.id());
            s.setString(2, item.kind().sql());
            s.setString(3, item.function());
            s.setBytes(4, item.input());
            s.setString(5, item.httpHead());
            s.setString(6, item.callbackUrl());
            s.setString(7, item.idempotencyKey());
            s.setString(8, item.source());
            s.setInt(9, p.maxRetries());
            s.setLong(10, p.backoffBase().toMillis());
            s.setLong(11, p.backoffMax().toMillis());
            s.setLong(12, p.maxAge().toMillis());
            s.setLong(13, runAt);
            s.setLong(14, now);
            if (s.executeUpdate() == 1) {
                db.notifyReady(c);
                return new Enqueued(get(c, item.id()), false);
            }
        }
        try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS
                + " FROM queue_items WHERE function_name = ? AND idempotency_key = ?")) {
            s.setString(1, item.function());
            s.setString(2, item.idempotencyKey());
            try (ResultSet r = s.executeQuery()) {
                if (!r.next()) {
                    throw new SQLException("item " + item.id() + " was not inserted and no item has its key");
                }
                return new Enqueued(item(r), true);
            }
        }
    }

    /** Wakes this node's workers: after a caller's own transaction that enqueued. */
    public void wake() {
        ready();
    }

    // ---- claim and lease ---------------------------------------------------------------------

    /**
     * Takes up to {@code max} items that are due, oldest due first, for {@code owner} for
     * {@code lease}. Items past their maximum age are dead-lettered here instead of returned.
     */
    public List<QueueItem> claim(String owner, int max, Duration lease) throws SQLException {
        return claim(owner, null, max, lease);
    }

    /**
     * The functions that have work due now, at most {@code limit}: a worker claims per function,
     * as much as that function has room for, so that one function's backlog neither starves the
     * others nor sits claimed (and leased) while it waits for an instance.
     */
    public List<String> dueFunctions(int limit) throws SQLException {
        return db.transaction(c -> {
            List<String> out = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT DISTINCT function_name FROM queue_items"
                    + " WHERE state = 'available' AND run_at <= ? LIMIT ?")) {
                s.setLong(1, clock.millis());
                s.setInt(2, limit);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        out.add(r.getString(1));
                    }
                }
            }
            return out;
        });
    }

    /** {@link #claim(String, int, Duration)}, only items of {@code function} when it is not null. */
    public List<QueueItem> claim(String owner, String function, int max, Duration lease) throws SQLException {
        return claim(owner, function, max, lease, Duration.ZERO);
    }

    /**
     * {@link #claim(String, String, int, Duration)}, only items that have been due for at least
     * {@code dueFor}: a node without a warm instance of the function leaves fresh work to the
     * nodes that have one.
     */
    public List<QueueItem> claim(String owner, String function, int max, Duration lease, Duration dueFor)
            throws SQLException {
        if (max <= 0) {
            return List.of();
        }
        return db.transaction(c -> {
            long now = clock.millis();
            List<QueueItem> claimed = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("UPDATE queue_items SET state = 'running',"
                    + " attempt = attempt + 1, attempts_total = attempts_total + 1, started_at = ?, lease_node = ?,"
                    + " lease_owner = ?, lease_until = ? WHERE id IN (SELECT id FROM queue_items"
                    + " WHERE state = 'available' AND run_at <= ?" + (function == null ? "" : " AND function_name = ?")
                    + " ORDER BY run_at, id LIMIT ?" + db.dialect().claimLock() + ") RETURNING " + COLUMNS)) {
                int n = 1;
                s.setLong(n++, now);
                s.setString(n++, node);
                s.setString(n++, owner);
                s.setLong(n++, now + lease.toMillis());
                s.setLong(n++, now - dueFor.toMillis());
                if (function != null) {
                    s.setString(n++, function);
                }
                s.setInt(n, max);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        claimed.add(item(r));
                    }
                }
            }
            // RETURNING has no order on PostgreSQL: oldest due first, as the claim chose them.
            claimed.sort(java.util.Comparator.comparing(QueueItem::runAt).thenComparingLong(QueueItem::id));
            List<QueueItem> live = new ArrayList<>(claimed.size());
            for (QueueItem i : claimed) {
                insertAttempt(c, i.id(), i.attemptsTotal(), now);
                if (tooOld(i, now)) {
                    endAttempt(c, i.id(), i.attemptsTotal(), now, "failed", "max_event_age",
                            expiredMessage(i));
                    dead(c, i.id(), now, "max_event_age", expiredMessage(i), null);
                } else {
                    live.add(i);
                }
            }
            return live;
        });
    }

    private static boolean tooOld(QueueItem i, long now) {
        return i.policy().hasMaxAge() && now - i.createdAt().toEpochMilli() > i.policy().maxAge().toMillis();
    }

    private static String expiredMessage(QueueItem i) {
        return "older than its maximum event age of " + i.policy().maxAge().toMillis() + " ms; not run";
    }

    /** Renews every lease {@code owner} holds; returns how many. */
    public int heartbeat(String owner, Duration lease) throws SQLException {
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement(
                    "UPDATE queue_items SET lease_until = ? WHERE state = 'running' AND lease_owner = ?")) {
                s.setLong(1, clock.millis() + lease.toMillis());
                s.setString(2, owner);
                return s.executeUpdate();
            }
        });
    }

    // ---- outcomes ----------------------------------------------------------------------------

    /**
     * The attempt succeeded. False if {@code owner} no longer holds the item (its lease ran out
     * and the reaper gave it to another attempt): then nothing is written.
     */
    public boolean succeed(long id, String owner, byte[] result) throws SQLException {
        return db.transaction(c -> succeed(c, id, owner, result));
    }

    /** {@link #succeed} inside the caller's transaction (a destination enqueued with it). */
    public boolean succeed(Connection c, long id, String owner, byte[] result) throws SQLException {
        long now = clock.millis();
        int seq = ownedSeq(c, id, owner);
        if (seq < 0) {
            return false;
        }
        try (PreparedStatement s = c.prepareStatement("UPDATE queue_items SET state = 'succeeded', result = ?,"
                + " error_code = NULL, error_message = NULL, error_type = NULL, finished_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ?")) {
            s.setBytes(1, result);
            s.setLong(2, now);
            s.setLong(3, id);
            s.executeUpdate();
        }
        endAttempt(c, id, seq, now, "succeeded", null, null);
        ended(c, id);
        return true;
    }

    /** What {@link #fail} did with the item. */
    public record Failed(boolean owned, boolean dead, Instant retryAt) {
    }

    /** The attempt failed: retried after its backoff, or dead-lettered (see {@link RetryPolicy}). */
    public Failed fail(long id, String owner, Failure f) throws SQLException {
        return db.transaction(c -> fail(c, id, owner, f));
    }

    public Failed fail(Connection c, long id, String owner, Failure f) throws SQLException {
        long now = clock.millis();
        int seq = ownedSeq(c, id, owner);
        if (seq < 0) {
            return new Failed(false, false, null);
        }
        endAttempt(c, id, seq, now, "failed", f);
        return retryOrDead(c, get(c, id), now, f.retryable(), f.code(), f.message(), f.type());
    }

    /**
     * {@link #fail}, and the item's input becomes {@code input} for its retries (and its dead
     * letter): what is left of an SQS batch whose handler reported some records failed.
     */
    public Failed fail(Connection c, long id, String owner, Failure f, byte[] input) throws SQLException {
        if (ownedSeq(c, id, owner) < 0) {
            return new Failed(false, false, null);
        }
        try (PreparedStatement s = c.prepareStatement("UPDATE queue_items SET input = ? WHERE id = ?")) {
            s.setBytes(1, input);
            s.setLong(2, id);
            s.executeUpdate();
        }
        return fail(c, id, owner, f);
    }

    /**
     * The attempt never ran (no capacity, the node is draining): back to available after
     * {@code delay}, and the attempt does not count.
     */
    public boolean release(long id, String owner, Duration delay) throws SQLException {
        boolean owned = db.transaction(c -> release(c, id, owner, delay));
        if (owned && delay.isZero()) {
            ready();
        }
        return owned;
    }

    public boolean release(Connection c, long id, String owner, Duration delay) throws SQLException {
        int seq = ownedSeq(c, id, owner);
        if (seq < 0) {
            return false;
        }
        try (PreparedStatement s = c.prepareStatement("DELETE FROM queue_attempts WHERE item_id = ? AND seq = ?")) {
            s.setLong(1, id);
            s.setInt(2, seq);
            s.executeUpdate();
        }
        try (PreparedStatement s = c.prepareStatement("UPDATE queue_items SET state = 'available',"
                + " attempt = attempt - 1, attempts_total = attempts_total - 1, run_at = ?, lease_owner = NULL,"
                + " lease_until = NULL WHERE id = ?")) {
            s.setLong(1, clock.millis() + delay.toMillis());
            s.setLong(2, id);
            s.executeUpdate();
        }
        return true;
    }

    private Failed retryOrDead(Connection c, QueueItem i, long now, boolean retryable, String code, String message,
                               String type) throws SQLException {
        RetryPolicy p = i.policy();
        String why = null;
        if (!retryable) {
            why = message;
        } else if (i.attempt() > p.maxRetries()) {
            why = p.maxRetries() == 0 ? message + " (retries are off)"
                    : message + " (after " + i.attempt() + " attempts; retries exhausted)";
        }
        long retryAt = 0;
        if (why == null) {
            retryAt = now + p.delayBefore(i.attempt(), random.nextDouble()).toMillis();
            if (p.hasMaxAge() && retryAt - i.createdAt().toEpochMilli() > p.maxAge().toMillis()) {
                why = message + " (a retry would pass its maximum event age of " + p.maxAge().toMillis() + " ms)";
            }
        }
        if (why != null) {
            dead(c, i.id(), now, code, why, type);
            return new Failed(true, true, null);
        }
        try (PreparedStatement s = c.prepareStatement("UPDATE queue_items SET state = 'available', run_at = ?,"
                + " lease_owner = NULL, lease_until = NULL, error_code = ?, error_message = ?, error_type = ?"
                + " WHERE id = ?")) {
            s.setLong(1, retryAt);
            s.setString(2, code);
            s.setString(3, message);
            s.setString(4, type);
            s.setLong(5, i.id());
            s.executeUpdate();
        }
        return new Failed(true, false, Instant.ofEpochMilli(retryAt));
    }

    private void dead(Connection c, long id, long now, String code, String message, String type)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE queue_items SET state = 'dead', finished_at = ?,"
                + " lease_owner = NULL, lease_until = NULL, error_code = ?, error_message = ?, error_type = ?"
                + " WHERE id = ?")) {
            s.setLong(1, now);
            s.setString(2, code);
            s.setString(3, message);
            s.setString(4, type);
            s.setLong(5, id);
            s.executeUpdate();
        }
        ended(c, id);
    }

    /** The running attempt's number if {@code owner} holds the item, else -1. */
    private static int ownedSeq(Connection c, long id, String owner) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "SELECT attempts_total FROM queue_items WHERE id = ? AND state = 'running' AND lease_owner = ?")) {
            s.setLong(1, id);
            s.setString(2, owner);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getInt(1) : -1;
            }
        }
    }

    private void insertAttempt(Connection c, long id, int seq, long now) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO queue_attempts (item_id, seq, node, started_at)"
                + " VALUES (?, ?, ?, ?)")) {
            s.setLong(1, id);
            s.setInt(2, seq);
            s.setString(3, node);
            s.setLong(4, now);
            s.executeUpdate();
        }
    }

    private static void endAttempt(Connection c, long id, int seq, long now, String outcome, String code,
                                   String message) throws SQLException {
        endAttempt(c, id, seq, now, outcome, new Failure(code, message, null, false));
    }

    private static void endAttempt(Connection c, long id, int seq, long now, String outcome, Failure f)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE queue_attempts SET ended_at = ?, outcome = ?,"
                + " error_code = ?, error_message = ?, error_type = ? WHERE item_id = ? AND seq = ?")) {
            s.setLong(1, now);
            s.setString(2, outcome);
            s.setString(3, f.code());
            s.setString(4, f.message());
            s.setString(5, f.type());
            s.setLong(6, id);
            s.setInt(7, seq);
            s.executeUpdate();
        }
    }

    // ---- the reaper --------------------------------------------------------------------------

    /**
     * Returns to the queue (or dead-letters, when out of retries) every running item whose lease
     * ran out: its worker died or lost the store. Returns how many.
     */
    public int rescueExpired() throws SQLException {
        return rescue("lease_until < ?", clock.millis(), null,
                "its node stopped renewing the lease (killed, or cut off from the store)");
    }

    /**
     * At start: this node's items still marked running belong to its previous process, which is
     * gone. They are rescued now instead of after their lease runs out.
     */
    public int rescueOwnPrevious(String currentOwner) throws SQLException {
        return rescue("lease_node = ? AND lease_owner <> ?", node, currentOwner,
                "its node restarted while the attempt ran");
    }

    /**
     * Inside the caller's transaction: every item {@code node} holds running is returned to the
     * queue (or dead-lettered, out of retries) as an interrupted attempt, whoever its lease
     * owner. For a node declared dead by a peer, and for a node's own leftovers as it stops.
     */
    public int rescueNode(Connection c, String node, String why) throws SQLException {
        int n = rescue(c, "lease_node = ?", node, null, why);
        if (n > 0) {
            db.notifyReady(c); // at commit: every node's workers look again
        }
        return n;
    }

    private int rescue(String where, Object a, Object b, String why) throws SQLException {
        int n = db.transaction(c -> rescue(c, where, a, b, why));
        if (n > 0) {
            ready();
        }
        return n;
    }

    private int rescue(Connection c, String where, Object a, Object b, String why) throws SQLException {
        {
            long now = clock.millis();
            List<QueueItem> lost = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM queue_items WHERE state = 'running'"
                    + " AND " + where + " ORDER BY id" + db.dialect().claimLock())) {
                set(s, 1, a);
                if (b != null) {
                    set(s, 2, b);
                }
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        lost.add(item(r));
                    }
                }
            }
            for (QueueItem i : lost) {
                endAttempt(c, i.id(), i.attemptsTotal(), now, "interrupted", "interrupted", why);
                retryOrDead(c, i, now, true, "interrupted", "attempt " + i.attempt() + " was interrupted: " + why, null);
            }
            return lost.size();
        }
    }

    private static void set(PreparedStatement s, int i, Object v) throws SQLException {
        if (v instanceof Long l) {
            s.setLong(i, l);
        } else {
            s.setString(i, (String) v);
        }
    }

    // ---- reading -----------------------------------------------------------------------------

    public QueueItem get(long id) throws SQLException {
        return db.transaction(c -> get(c, id));
    }

    public QueueItem get(Connection c, long id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM queue_items WHERE id = ?")) {
            s.setLong(1, id);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? item(r) : null;
            }
        }
    }

    public List<Attempt> attempts(long id) throws SQLException {
        return db.transaction(c -> attempts(c, id));
    }

    public List<Attempt> attempts(Connection c, long id) throws SQLException {
        List<Attempt> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT seq, node, started_at, ended_at, outcome, error_code,"
                + " error_message, error_type FROM queue_attempts WHERE item_id = ? ORDER BY seq")) {
            s.setLong(1, id);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    out.add(new Attempt(r.getInt(1), r.getString(2), instant(r, 3), instant(r, 4), r.getString(5),
                            r.getString(6), r.getString(7), r.getString(8)));
                }
            }
        }
        return out;
    }

    /** A function's dead letters, oldest first, at most {@code limit}. */
    public List<QueueItem> deadLetters(String function, int limit) throws SQLException {
        return db.transaction(c -> {
            List<QueueItem> out = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM queue_items WHERE"
                    + " function_name = ? AND state = 'dead' ORDER BY finished_at, id LIMIT ?")) {
                s.setString(1, function);
                s.setInt(2, limit);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        out.add(item(r));
                    }
                }
            }
            return out;
        });
    }

    /**
     * Puts a function's dead letters back in the queue with a fresh set of attempts (their
     * history stays): all of them, or only {@code ids} when not null. Returns how many.
     */
    public int redrive(String function, List<Long> ids) throws SQLException {
        int n = db.transaction(c -> {
            long now = clock.millis();
            String sql = "UPDATE queue_items SET state = 'available', attempt = 0, run_at = ?, finished_at = NULL,"
                    + " created_at = ?, lease_owner = NULL, lease_until = NULL WHERE function_name = ? AND state = 'dead'";
            int count = 0;
            if (ids == null) {
                try (PreparedStatement s = c.prepareStatement(sql)) {
                    s.setLong(1, now);
                    s.setLong(2, now);
                    s.setString(3, function);
                    count = s.executeUpdate();
                }
            } else {
                try (PreparedStatement s = c.prepareStatement(sql + " AND id = ?")) {
                    for (long id : ids) {
                        s.setLong(1, now);
                        s.setLong(2, now);
                        s.setString(3, function);
                        s.setLong(4, id);
                        count += s.executeUpdate();
                    }
                }
            }
            if (count > 0) {
                db.notifyReady(c);
            }
            return count;
        });
        if (n > 0) {
            ready();
        }
        return n;
    }

    /**
     * Cancels an item that is waiting to run (a stopped batch job's records): true if it was
     * available and is now cancelled, false if it is running or has ended (then it goes on to
     * its own end). Inside the caller's transaction.
     */
    public boolean cancelWaiting(Connection c, long id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE queue_items SET state = 'cancelled', finished_at = ?"
                + " WHERE id = ? AND state = 'available'")) {
            s.setLong(1, clock.millis());
            s.setLong(2, id);
            return s.executeUpdate() == 1;
        }
    }

    /** Deletes ended items (and their attempts) that ended before the given times; returns how many. */
    public int sweep(Instant succeededBefore, Instant deadBefore) throws SQLException {
        return db.transaction(c -> sweep(c, "'succeeded', 'cancelled'", succeededBefore)
                + sweep(c, "'dead'", deadBefore));
    }

    private static int sweep(Connection c, String states, Instant before) throws SQLException {
        String ended = "state IN (" + states + ") AND finished_at < ?";
        try (PreparedStatement s = c.prepareStatement(
                "DELETE FROM queue_attempts WHERE item_id IN (SELECT id FROM queue_items WHERE " + ended + ")")) {
            s.setLong(1, before.toEpochMilli());
            s.executeUpdate();
        }
        try (PreparedStatement s = c.prepareStatement("DELETE FROM queue_items WHERE " + ended)) {
            s.setLong(1, before.toEpochMilli());
            return s.executeUpdate();
        }
    }

    /** The queue at a glance, for metrics and {@code /healthz}. */
    public record Stats(long available, long running, long dead, Instant oldestAvailable) {
    }

    public Stats stats() throws SQLException {
        return db.transaction(c -> {
            long available = 0;
            long running = 0;
            long dead = 0;
            try (PreparedStatement s = c.prepareStatement("SELECT state, COUNT(*) FROM queue_items"
                    + " WHERE state IN ('available', 'running', 'dead') GROUP BY state");
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    switch (r.getString(1)) {
                        case "available" -> available = r.getLong(2);
                        case "running" -> running = r.getLong(2);
                        default -> dead = r.getLong(2);
                    }
                }
            }
            Instant oldest = null;
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT MIN(created_at) FROM queue_items WHERE state = 'available'");
                 ResultSet r = s.executeQuery()) {
                if (r.next()) {
                    oldest = instant(r, 1);
                }
            }
            return new Stats(available, running, dead, oldest);
        });
    }

    // ---- rows --------------------------------------------------------------------------------

    static QueueItem item(ResultSet r) throws SQLException {
        RetryPolicy p = new RetryPolicy(r.getInt("max_retries"), Duration.ofMillis(r.getLong("backoff_base_ms")),
                Duration.ofMillis(r.getLong("backoff_max_ms")), Duration.ofMillis(r.getLong("max_age_ms")));
        return new QueueItem(r.getLong("id"), QueueItem.Kind.of(r.getString("kind")), r.getString("function_name"),
                QueueItem.State.of(r.getString("state")), r.getBytes("input"), r.getString("http_head"),
                r.getString("callback_url"), r.getString("idempotency_key"), r.getString("source"), p,
                r.getInt("attempt"), r.getInt("attempts_total"), instant(r, "run_at"), instant(r, "created_at"),
                instant(r, "started_at"), instant(r, "finished_at"), r.getString("lease_node"), r.getBytes("result"),
                r.getString("error_code"), r.getString("error_message"), r.getString("error_type"));
    }

    private static Instant instant(ResultSet r, String column) throws SQLException {
        long v = r.getLong(column);
        return r.wasNull() ? null : Instant.ofEpochMilli(v);
    }

    private static Instant instant(ResultSet r, int column) throws SQLException {
        long v = r.getLong(column);
        return r.wasNull() ? null : Instant.ofEpochMilli(v);
    }

}
