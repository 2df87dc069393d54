package io.kiln.queue.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The shared test server is a real PostgreSQL with what the queue depends on: separate fresh
 * databases, row claims with {@code SKIP LOCKED}, and {@code LISTEN/NOTIFY} wake-ups.
 */
class PostgresServerTest {

    private static PostgresServer server;

    @BeforeAll
    static void startServer() {
        server = PostgresServer.shared();
    }

    @Test
    void isARealPostgresqlServer() throws SQLException {
        try (Connection c = DriverManager.getConnection(server.jdbcUrl());
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select version(), current_database()")) {
            assertTrue(rs.next());
            assertTrue(rs.getString(1).startsWith("PostgreSQL"), rs.getString(1));
            assertEquals("kiln", rs.getString(2));
        }
    }

    @Test
    void sharedIsOneServerPerJvm() {
        assertEquals(server, PostgresServer.shared());
    }

    @Test
    void freshDatabasesAreDistinctAndEmpty() throws SQLException {
        String first = server.freshDatabase("PostgresServerTest");
        String second = server.freshDatabase("PostgresServerTest");
        assertNotEquals(first, second);

        try (Connection a = DriverManager.getConnection(first);
             Connection b = DriverManager.getConnection(second)) {
            assertEquals(0, userTableCount(a));
            assertEquals(0, userTableCount(b));
            try (Statement s = a.createStatement()) {
                s.execute("create table only_in_first (id int)");
            }
            assertEquals(1, userTableCount(a));
            assertEquals(0, userTableCount(b), "a table made in one fresh database shows in the other");
            assertNotEquals(currentDatabase(a), currentDatabase(b));
        }
    }

    @Test
    void skipLockedGivesConcurrentTransactionsDisjointRows() throws SQLException {
        String url = server.freshDatabase("skip_locked");
        try (Connection setup = DriverManager.getConnection(url);
             Statement s = setup.createStatement()) {
            s.execute("create table items (id int primary key)");
            s.execute("insert into items select generate_series(1, 10)");
        }
        try (Connection first = DriverManager.getConnection(url);
             Connection second = DriverManager.getConnection(url)) {
            first.setAutoCommit(false);
            second.setAutoCommit(false);
            // Both transactions stay open: the first one's row locks are held while the second claims.
            List<Integer> claimedByFirst = claim(first, 4);
            List<Integer> claimedBySecond = claim(second, 4);

            assertEquals(4, claimedByFirst.size());
            assertEquals(4, claimedBySecond.size());
            Set<Integer> overlap = new HashSet<>(claimedByFirst);
            overlap.retainAll(claimedBySecond);
            assertTrue(overlap.isEmpty(), "both claimed " + overlap);

            first.rollback();
            second.rollback();
        }
    }

    @Test
    void notifyFromAnotherConnectionReachesTheListener() throws SQLException {
        String channel = "kiln_test_wakeup";
        String payload = "queue item 42";
        try (Connection listener = DriverManager.getConnection(server.jdbcUrl());
             Connection sender = DriverManager.getConnection(server.jdbcUrl())) {
            try (Statement s = listener.createStatement()) {
                s.execute("LISTEN " + channel);
            }
            try (PreparedStatement notify = sender.prepareStatement("select pg_notify(?, ?)")) {
                notify.setString(1, channel);
                notify.setString(2, payload);
                notify.execute();
            }

            PGNotification received = awaitNotification(listener.unwrap(PGConnection.class), 10_000);
            assertEquals(channel, received.getName());
            assertEquals(payload, received.getParameter());
        }
    }

    /** Blocks in the driver until a notification arrives; fails when the deadline passes first. */
    private static PGNotification awaitNotification(PGConnection listener, long timeoutMillis) throws SQLException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (true) {
            long leftMillis = (deadline - System.nanoTime()) / 1_000_000;
            assertTrue(leftMillis > 0, "no notification within " + timeoutMillis + " ms");
            PGNotification[] notifications = listener.getNotifications((int) leftMillis);
            if (notifications != null && notifications.length > 0) {
                return notifications[0];
            }
        }
    }

    private static List<Integer> claim(Connection c, int limit) throws SQLException {
        List<Integer> ids = new ArrayList<>();
        try (PreparedStatement claim = c.prepareStatement(
                "select id from items order by id limit ? for update skip locked")) {
            claim.setInt(1, limit);
            try (ResultSet rs = claim.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getInt(1));
                }
            }
        }
        return ids;
    }

    private static int userTableCount(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(
                     "select count(*) from information_schema.tables where table_schema = 'public'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static String currentDatabase(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select current_database()")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
