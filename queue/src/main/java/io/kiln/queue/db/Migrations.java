package io.kiln.queue.db;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Versioned schema migrations: {@code migrations/V<n>__<what>.sql} resources, numbered from 1
 * without gaps, each applied once, in order, in its own transaction, and recorded in
 * {@code kiln_schema}. The same files serve both stores (see {@link Dialect}). A store whose
 * schema is newer than this build knows is refused rather than written to.
 *
 * <p>Why not Flyway: the migrations are plain SQL common to both stores, so all that is needed
 * is "apply the ones not yet applied, in order", about 60 lines; Flyway would add a megabyte and
 * classpath scanning to every start.
 */
final class Migrations {

    static final String DIR = "/io/kiln/queue/migrations/";

    private Migrations() {
    }

    /** The migrations this build has, in order. */
    static List<Migration> available() {
        List<Migration> list = new ArrayList<>();
        try (InputStream index = Migrations.class.getResourceAsStream(DIR + "index")) {
            if (index == null) {
                throw new IllegalStateException("the queue's migrations index is missing from the build");
            }
            for (String line : new String(index.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String name = line.strip();
                if (name.isEmpty() || name.startsWith("#")) {
                    continue;
                }
                int version = Integer.parseInt(name.substring(1, name.indexOf("__")));
                if (version != list.size() + 1) {
                    throw new IllegalStateException("migration " + name + " is out of order");
                }
                try (InputStream in = Migrations.class.getResourceAsStream(DIR + name)) {
                    if (in == null) {
                        throw new IllegalStateException("migration " + name + " is listed but missing");
                    }
                    list.add(new Migration(version, name, new String(in.readAllBytes(), StandardCharsets.UTF_8)));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("reading the queue's migrations failed", e);
        }
        return list;
    }

    /**
     * On PostgreSQL, the session-level advisory lock that makes migrating one node at a time: nodes
     * of a cluster started together on a new database would otherwise each run V1, and all but one
     * fail on PostgreSQL's catalog ({@code duplicate key value violates unique constraint
     * "pg_type_typname_nsp_index"}), even on {@code CREATE TABLE IF NOT EXISTS}. The number is
     * arbitrary, fixed ("kiln" in ASCII).
     */
    static final long PG_LOCK = 0x6b696c6eL;

    /** Applies what is missing; returns the schema version now in the store. */
    static int apply(Connection c) throws SQLException {
        boolean pg = c.getMetaData().getDatabaseProductName().equals("PostgreSQL");
        if (pg) {
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_advisory_lock(" + PG_LOCK + ")");
            }
        }
        try {
            return applyLocked(c);
        } finally {
            if (pg) {
                // A session lock outlives transactions: give it back before the pool reuses the connection.
                try (Statement s = c.createStatement()) {
                    s.execute("SELECT pg_advisory_unlock(" + PG_LOCK + ")");
                }
            }
        }
    }

    private static int applyLocked(Connection c) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS kiln_schema (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                        + " applied_at BIGINT NOT NULL)");
            }
            c.commit();
            int current = current(c);
            List<Migration> all = available();
            if (current > all.size()) {
                throw new SQLException("the queue's store has schema version " + current + " but this Kiln knows only "
                        + all.size() + ": it was written by a newer Kiln; upgrade, or point --queue-url elsewhere");
            }
            for (Migration m : all.subList(current, all.size())) {
                try (Statement s = c.createStatement()) {
                    for (String sql : m.statements()) {
                        s.execute(sql);
                    }
                }
                try (PreparedStatement p = c.prepareStatement(
                        "INSERT INTO kiln_schema (version, name, applied_at) VALUES (?, ?, ?)")) {
                    p.setInt(1, m.version());
                    p.setString(2, m.name());
                    p.setLong(3, System.currentTimeMillis());
                    p.executeUpdate();
                }
                c.commit();
            }
            return all.size();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    static int current(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT MAX(version) FROM kiln_schema")) {
            return r.next() ? r.getInt(1) : 0;
        }
    }

    record Migration(int version, String name, String sql) {
        /** The file's statements: split at semicolons that end a line; comments ({@code --}) dropped. */
        List<String> statements() {
            List<String> out = new ArrayList<>();
            StringBuilder cur = new StringBuilder();
            for (String line : sql.split("\n")) {
                String l = line.strip();
                if (l.startsWith("--") || l.isEmpty()) {
                    continue;
                }
                cur.append(line).append('\n');
                if (l.endsWith(";")) {
                    String stmt = cur.toString().strip();
                    out.add(stmt.substring(0, stmt.length() - 1));
                    cur.setLength(0);
                }
            }
            if (!cur.toString().isBlank()) {
                throw new IllegalStateException("migration " + name + " ends without a ';'");
            }
            return out;
        }
    }
}
