package io.kiln.queue.topic;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.queue.NewItem;
import io.kiln.queue.QueueItem;
import io.kiln.queue.QueueStore;
import io.kiln.queue.RetryPolicy;
import io.kiln.queue.db.Database;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Topics' subscriptions, and publishing: an event becomes, in one transaction, one queue item
 * per subscription whose filter it matches. Each item runs under its function's retry policy,
 * so one subscriber's failures never hold back another's deliveries, and a published event is
 * either delivered to every matching subscription or (the transaction failed) to none.
 *
 * <p>SQS-shaped subscriptions batch: an event joins the subscription's newest item that is
 * still waiting for its first attempt and has room (row-locked on PostgreSQL, so a claim and an
 * append never race), else it starts a new item.
 */
public final class TopicStore {

    private static final String COLUMNS = "id, topic, name, function_name, filters, shape, batch_size,"
            + " batch_window_ms, created_at, updated_at";

    private final QueueStore queue;
    private final Database db;
    private final LongSupplier ids;

    /** @param ids new ids for subscriptions and queue items (the gateway's call ids) */
    public TopicStore(QueueStore queue, LongSupplier ids) {
        this.queue = queue;
        this.db = queue.database();
        this.ids = ids;
    }

    // ---- subscriptions -------------------------------------------------------------------

    /** The subscription as stored, and whether this call created it (else it replaced one). */
    public record Put(Subscription subscription, boolean created) {
    }

    /**
     * Creates the subscription {@code name} of {@code topic}, or replaces its function, filter
     * and shape (PUT semantics: the same call twice leaves one subscription). A replaced
     * subscription keeps its id, so its pending deliveries stay its own.
     */
    public Put put(String topic, String name, String function, Filter filter, Shape shape, int batchSize,
                   Duration batchWindow) throws SQLException {
        long now = queue.clock().millis();
        // Checks every argument before the store is touched.
        new Subscription(1, topic, name, function, filter, shape, batchSize, batchWindow, Instant.EPOCH,
                Instant.EPOCH);
        return db.transaction(c -> {
            boolean created;
            try (PreparedStatement s = c.prepareStatement("INSERT INTO topic_subscriptions (" + COLUMNS + ")"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (topic, name) DO NOTHING")) {
                s.setLong(1, ids.getAsLong());
                s.setString(2, topic);
                s.setString(3, name);
                s.setString(4, function);
                s.setString(5, filter.toJson().toString());
                s.setString(6, shape.sql());
                s.setInt(7, batchSize);
                s.setLong(8, batchWindow.toMillis());
                s.setLong(9, now);
                s.setLong(10, now);
                created = s.executeUpdate() == 1;
            }
            if (!created) {
                try (PreparedStatement s = c.prepareStatement("UPDATE topic_subscriptions SET function_name = ?,"
                        + " filters = ?, shape = ?, batch_size = ?, batch_window_ms = ?, updated_at = ?"
                        + " WHERE topic = ? AND name = ?")) {
                    s.setString(1, function);
                    s.setString(2, filter.toJson().toString());
                    s.setString(3, shape.sql());
                    s.setInt(4, batchSize);
                    s.setLong(5, batchWindow.toMillis());
                    s.setLong(6, now);
                    s.setString(7, topic);
                    s.setString(8, name);
                    s.executeUpdate();
                }
            }
            return new Put(get(c, topic, name), created);
        });
    }

    public Subscription get(String topic, String name) throws SQLException {
        return db.transaction(c -> get(c, topic, name));
    }

    private static Subscription get(Connection c, String topic, String name) throws SQLException {
        List<Subscription> found = select(c, " WHERE topic = ? AND name = ?", topic, name);
        return found.isEmpty() ? null : found.get(0);
    }

    /** Every subscription, by topic, then name. */
    public List<Subscription> list() throws SQLException {
        return db.transaction(c -> select(c, ""));
    }

    /** A deleted subscription, and how many of its deliveries that had not started were cancelled. */
    public record Deleted(Subscription subscription, int cancelled) {
    }

    /**
     * Deletes the subscription and cancels its deliveries still waiting (first attempt or a
     * retry), in one transaction: it receives nothing more. A delivery running now finishes.
     * Null when there is no such subscription.
     */
    public Deleted delete(String topic, String name) throws SQLException {
        return db.transaction(c -> {
            Subscription s = get(c, topic, name);
            if (s == null) {
                return null;
            }
            try (PreparedStatement d = c.prepareStatement("DELETE FROM topic_subscriptions WHERE id = ?")) {
                d.setLong(1, s.id());
                d.executeUpdate();
            }
            int cancelled;
            try (PreparedStatement u = c.prepareStatement("UPDATE queue_items SET state = 'cancelled',"
                    + " finished_at = ?, error_code = 'cancelled', error_message = ? WHERE source = ?"
                    + " AND state = 'available'")) {
                u.setLong(1, queue.clock().millis());
                u.setString(2, "subscription " + name + " of topic " + topic + " was deleted before this ran");
                u.setString(3, s.source());
                cancelled = u.executeUpdate();
            }
            return new Deleted(s, cancelled);
        });
    }

    // ---- publishing ----------------------------------------------------------------------

    /** One subscription's delivery of a published event: the queue item that carries it. */
    public record Delivery(Subscription subscription, long itemId, boolean batched) {
    }

    /**
     * Enqueues {@code event} for every subscription of {@code topic} whose filter it matches,
     * in one transaction, and wakes the workers after the commit.
     *
     * @param policies the retry policy of a function by name (its event policy's, or the default
     *                 when the function is gone: its deliveries then end as not_found)
     */
    public List<Delivery> publish(String topic, CloudEvent event, Function<String, RetryPolicy> policies)
            throws SQLException {
        Subscription.checkName("topic", topic);
        List<Delivery> out = db.transaction(c -> {
            long now = queue.clock().millis();
            List<Delivery> deliveries = new ArrayList<>();
            for (Subscription s : select(c, " WHERE topic = ?", topic)) {
                if (!s.filter().matches(event)) {
                    continue;
                }
                if (s.shape() == Shape.SQS) {
                    deliveries.add(deliverSqs(c, s, event, now, policies));
                } else {
                    long id = ids.getAsLong();
                    queue.enqueue(c, NewItem.call(id, s.function(), Deliveries.plain(event), null, null, null,
                            s.source(), policies.apply(s.function())));
                    deliveries.add(new Delivery(s, id, false));
                }
            }
            return deliveries;
        });
        if (!out.isEmpty()) {
            queue.wake();
        }
        return out;
    }

    private Delivery deliverSqs(Connection c, Subscription s, CloudEvent event, long now,
                                Function<String, RetryPolicy> policies) throws SQLException {
        ObjectNode record = Deliveries.sqsRecord(event, s, now);
        // The newest batch that no worker has taken yet; SKIP LOCKED on PostgreSQL: a batch a
        // claim holds right now is about to run, so the event starts the next one.
        try (PreparedStatement q = c.prepareStatement("SELECT id, input, run_at FROM queue_items WHERE source = ?"
                + " AND state = 'available' AND attempts_total = 0 ORDER BY created_at DESC, id DESC LIMIT 1"
                + db.dialect().claimLock())) {
            q.setString(1, s.source());
            try (ResultSet r = q.executeQuery()) {
                if (r.next()) {
                    long id = r.getLong(1);
                    byte[] batch = r.getBytes(2);
                    int size = Deliveries.sqsSize(batch);
                    if (size < s.batchSize()) {
                        // A batch this event fills runs now instead of at the end of its window.
                        long runAt = size + 1 == s.batchSize() ? Math.min(now, r.getLong(3)) : r.getLong(3);
                        try (PreparedStatement u = c.prepareStatement("UPDATE queue_items SET input = ?, run_at = ?"
                                + " WHERE id = ? AND state = 'available'")) {
                            u.setBytes(1, Deliveries.sqsAppend(batch, record));
                            u.setLong(2, runAt);
                            u.setLong(3, id);
                            if (u.executeUpdate() == 1) {
                                return new Delivery(s, id, true);
                            }
                        }
                    }
                }
            }
        }
        long id = ids.getAsLong();
        Instant runAt = s.batchSize() == 1 ? null : Instant.ofEpochMilli(now).plus(s.batchWindow());
        queue.enqueue(c, new NewItem(id, QueueItem.Kind.CALL, s.function(), Deliveries.sqsBatch(record), null, null,
                null, s.source(), policies.apply(s.function()), runAt));
        return new Delivery(s, id, false);
    }

    // ---- rows ----------------------------------------------------------------------------

    private static List<Subscription> select(Connection c, String where, String... args) throws SQLException {
        List<Subscription> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM topic_subscriptions" + where
                + " ORDER BY topic, name")) {
            for (int i = 0; i < args.length; i++) {
                s.setString(i + 1, args[i]);
            }
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    out.add(new Subscription(r.getLong("id"), r.getString("topic"), r.getString("name"),
                            r.getString("function_name"), Filter.parse(r.getString("filters")),
                            Shape.of(r.getString("shape")), r.getInt("batch_size"),
                            Duration.ofMillis(r.getLong("batch_window_ms")),
                            Instant.ofEpochMilli(r.getLong("created_at")),
                            Instant.ofEpochMilli(r.getLong("updated_at"))));
                }
            }
        }
        return out;
    }
}
