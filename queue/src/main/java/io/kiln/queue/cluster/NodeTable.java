package io.kiln.queue.cluster;

import io.kiln.queue.QueueStore;
import io.kiln.queue.db.Database;

import java.security.SecureRandom;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The nodes that share one store ({@code kiln_nodes}) and their shared settings
 * ({@code kiln_cluster}). Membership is heartbeats in a table, not a protocol of Kiln's own: the
 * store's transactions decide every race (two peers declaring one node dead, a node coming back
 * while a peer declares it dead).
 */
public final class NodeTable {

    private final Database db;
    private final Clock clock;

    public NodeTable(Database db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    /** Inserts or replaces this node's row, state {@code up}, started and heartbeat now. */
    public void register(String node, String url, String engine, String load) throws SQLException {
        long now = clock.millis();
        db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO kiln_nodes (node, url, engine, state,"
                    + " started_at, heartbeat_at, load) VALUES (?, ?, ?, 'up', ?, ?, ?) ON CONFLICT (node) DO UPDATE"
                    + " SET url = excluded.url, engine = excluded.engine, state = 'up',"
                    + " started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, load = excluded.load")) {
                s.setString(1, node);
                s.setString(2, url);
                s.setString(3, engine);
                s.setLong(4, now);
                s.setLong(5, now);
                s.setString(6, load);
                return s.executeUpdate();
            }
        });
    }

    /**
     * Renews this node's heartbeat and load. False if its row says it is no longer up or
     * draining: a peer declared it dead (it was cut off longer than the timeout), and the
     * caller must register again, since its leased work has been given to others.
     */
    public boolean heartbeat(String node, String load) throws SQLException {
        long now = clock.millis();
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE kiln_nodes SET heartbeat_at = ?, load = ?"
                    + " WHERE node = ? AND state IN ('up', 'draining')")) {
                s.setLong(1, now);
                s.setString(2, load);
                s.setString(3, node);
                return s.executeUpdate() == 1;
            }
        });
    }

    /** Sets this node's state ({@link NodeRow#DRAINING} when it stops taking work, {@link NodeRow#STOPPED} at the end). */
    public void state(String node, String state) throws SQLException {
        db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE kiln_nodes SET state = ?, heartbeat_at = ?"
                    + " WHERE node = ?")) {
                s.setString(1, state);
                s.setLong(2, clock.millis());
                s.setString(3, node);
                return s.executeUpdate();
            }
        });
    }

    public List<NodeRow> list() throws SQLException {
        return db.transaction(c -> {
            List<NodeRow> rows = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT node, url, engine, state, started_at, heartbeat_at,"
                    + " load FROM kiln_nodes ORDER BY node"); ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    rows.add(new NodeRow(r.getString(1), r.getString(2), r.getString(3), r.getString(4),
                            Instant.ofEpochMilli(r.getLong(5)), Instant.ofEpochMilli(r.getLong(6)), r.getString(7)));
                }
            }
            return rows;
        });
    }

    /**
     * Declares {@code node} dead if it is still up or draining and its heartbeat is older than
     * {@code timeout}, and in the same transaction returns its running queue items to the queue
     * (each an interrupted attempt). The conditional update decides races: of two peers only one
     * declares, and a node that heartbeats or registers again first is left alone. On PostgreSQL
     * the row stays locked until commit, so a restarting node's registration (and so its first
     * claim) comes after the rescue and none of its new leases is taken. Returns how many items
     * were rescued, or -1 if the node was not declared dead.
     */
    public int declareDead(String node, Duration timeout, QueueStore queue) throws SQLException {
        long now = clock.millis();
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE kiln_nodes SET state = 'dead' WHERE node = ?"
                    + " AND state IN ('up', 'draining') AND heartbeat_at < ?")) {
                s.setString(1, node);
                s.setLong(2, now - timeout.toMillis());
                if (s.executeUpdate() != 1) {
                    return -1;
                }
            }
            return queue.rescueNode(c, node, "its node " + node + " stopped heartbeating for more than "
                    + timeout.toSeconds() + " s and was declared dead");
        });
    }

    /**
     * A node stopping cleanly returns what it still holds running (its drain ran out) to the
     * queue itself, instead of leaving it to its next start or to a peer's dead-node rescue.
     */
    public int releaseOwn(String node, QueueStore queue) throws SQLException {
        return db.transaction(c -> queue.rescueNode(c, node, "its node " + node + " stopped before the attempt ended"));
    }

    /**
     * The shared setting {@code name}: the first caller's {@code proposed} value is stored, and
     * every caller (that one included) gets the stored one.
     */
    public String setting(String name, String proposed) throws SQLException {
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO kiln_cluster (name, value) VALUES (?, ?)"
                    + " ON CONFLICT (name) DO NOTHING")) {
                s.setString(1, name);
                s.setString(2, proposed);
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("SELECT value FROM kiln_cluster WHERE name = ?")) {
                s.setString(1, name);
                try (ResultSet r = s.executeQuery()) {
                    r.next();
                    return r.getString(1);
                }
            }
        });
    }

    /** 32 random bytes as hex: a fresh secret to propose with {@link #setting}. */
    public static String newSecret() {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
