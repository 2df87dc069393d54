package io.kiln.queue.catalog;

import io.kiln.queue.db.Database;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The functions a cluster's nodes share: each function's current version, its last
 * {@link #MAX_VERSIONS} versions, and their jars (once per content, in {@link #CHUNK} chunks,
 * streamed both ways). It is the source of truth in cluster mode; each node's own store is a
 * replica that {@code CatalogSync} makes match it.
 *
 * <p>Every write takes the next number of one change counter under its row lock and stamps it
 * on the function's row, then NOTIFYs {@link #CHANNEL} at commit. The lock makes numbers follow
 * commit order, so a node that has applied the changes up to N asks {@link #changesSince}(N) and
 * misses none. The lock is taken after a new jar is stored, so a long upload holds up no other
 * deploy.
 *
 * <p>Every method makes its own transaction and blocks: callers off the database's threads use
 * {@link Database#async}.
 */
public final class FunctionCatalog {

    /** The NOTIFY channel of catalog changes. */
    public static final String CHANNEL = "kiln_catalog";
    /** Jar bytes per row of {@code kiln_blob_chunks}. */
    public static final int CHUNK = 1 << 20;
    /** Versions kept per function, as each node's store keeps them. */
    public static final int MAX_VERSIONS = 10;

    private static final String VERSION_COLUMNS = "v.name, v.version, v.jar_sha256, v.jar_size, v.config, v.created_at";

    /** Opens a jar to store: called at most twice per publish (the second time only if its blob vanished meanwhile). */
    @FunctionalInterface
    public interface JarSource {
        InputStream open() throws IOException;
    }

    private final Database db;
    private final Clock clock;

    public FunctionCatalog(Database db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    public Database database() {
        return db;
    }

    // ---- writes ---------------------------------------------------------------------------

    /**
     * Makes {@code v} the function's current version, storing its jar unless the catalog has
     * it: one transaction. The version must be one more than the current one; a function that
     * does not exist (or was deleted) takes any number, so a node's existing functions keep
     * theirs when they seed the catalog.
     *
     * @return the change number of the publish
     * @throws VersionConflict          if another publish took that number first, or it is not the next
     * @throws IllegalArgumentException if the jar's content is not {@code v}'s SHA-256 and size
     * @throws IOException              if the jar cannot be read
     */
    public long publish(CatalogVersion v, JarSource jar) throws SQLException, IOException {
        try {
            long seq = db.transaction(c -> {
                try {
                    storeBlobIfAbsent(c, v, jar);
                    long next = nextSeq(c);
                    // Again under the counter's lock: a garbage collection may have taken a blob
                    // that was there (unreferenced) before; it takes the same lock, so now it cannot.
                    storeBlobIfAbsent(c, v, jar);
                    long current = 0;
                    try (PreparedStatement s = c.prepareStatement(
                            "SELECT current_version, deleted FROM kiln_functions WHERE name = ?")) {
                        s.setString(1, v.name());
                        try (ResultSet r = s.executeQuery()) {
                            if (r.next() && r.getInt(2) == 0) {
                                current = r.getLong(1);
                            }
                        }
                    }
                    if (current > 0 && v.version() != current + 1) {
                        throw new VersionConflict(v.name(), v.version(), current);
                    }
                    long now = clock.millis();
                    try (PreparedStatement s = c.prepareStatement("INSERT INTO kiln_versions (name, version,"
                            + " jar_sha256, jar_size, config, created_at) VALUES (?, ?, ?, ?, ?, ?)")) {
                        s.setString(1, v.name());
                        s.setLong(2, v.version());
                        s.setString(3, v.jarSha256());
                        s.setLong(4, v.jarSize());
                        s.setString(5, v.config());
                        s.setLong(6, v.createdAtMs());
                        s.executeUpdate();
                    }
                    try (PreparedStatement s = c.prepareStatement("INSERT INTO kiln_functions (name, current_version,"
                            + " deleted, changed_seq, updated_at) VALUES (?, ?, 0, ?, ?) ON CONFLICT (name) DO UPDATE"
                            + " SET current_version = excluded.current_version, deleted = 0,"
                            + " changed_seq = excluded.changed_seq, updated_at = excluded.updated_at")) {
                        s.setString(1, v.name());
                        s.setLong(2, v.version());
                        s.setLong(3, next);
                        s.setLong(4, now);
                        s.executeUpdate();
                    }
                    try (PreparedStatement s = c.prepareStatement(
                            "DELETE FROM kiln_versions WHERE name = ? AND version <= ?")) {
                        s.setString(1, v.name());
                        s.setLong(2, v.version() - MAX_VERSIONS);
                        s.executeUpdate();
                    }
                    db.notify(c, CHANNEL);
                    return next;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            collectGarbage();
            return seq;
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /**
     * Deletes the function: its row stays, marked deleted, so that every node hears of it.
     *
     * @return false if there was no such function
     */
    public boolean delete(String name) throws SQLException {
        boolean deleted = db.transaction(c -> {
            long next = nextSeq(c);
            try (PreparedStatement s = c.prepareStatement("UPDATE kiln_functions SET deleted = 1, current_version = 0,"
                    + " changed_seq = ?, updated_at = ? WHERE name = ? AND deleted = 0")) {
                s.setLong(1, next);
                s.setLong(2, clock.millis());
                s.setString(3, name);
                if (s.executeUpdate() == 0) {
                    return false; // the number taken stays unused: readers need no gap-free numbers
                }
            }
            try (PreparedStatement s = c.prepareStatement("DELETE FROM kiln_versions WHERE name = ?")) {
                s.setString(1, name);
                s.executeUpdate();
            }
            db.notify(c, CHANNEL);
            return true;
        });
        if (deleted) {
            collectGarbage();
        }
        return deleted;
    }

    /**
     * Deletes the jars no kept version refers to.
     *
     * @return how many
     */
    public int collectGarbage() throws SQLException {
        return db.transaction(c -> {
            // The counter's lock: a publish that found a jar stored, and will refer to it,
            // checks again under this lock, so it cannot lose the jar to this collection.
            try (PreparedStatement s = c.prepareStatement("UPDATE kiln_catalog_seq SET seq = seq WHERE id = 1")) {
                s.executeUpdate();
            }
            String unreferenced = "SELECT b.sha256 FROM kiln_blobs b WHERE NOT EXISTS"
                    + " (SELECT 1 FROM kiln_versions v WHERE v.jar_sha256 = b.sha256)";
            try (PreparedStatement s = c.prepareStatement(
                    "DELETE FROM kiln_blob_chunks WHERE sha256 IN (" + unreferenced + ")")) {
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("DELETE FROM kiln_blobs WHERE sha256 IN (" + unreferenced + ")")) {
                return s.executeUpdate();
            }
        });
    }

    private static long nextSeq(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "UPDATE kiln_catalog_seq SET seq = seq + 1 WHERE id = 1 RETURNING seq");
             ResultSet r = s.executeQuery()) {
            if (!r.next()) {
                throw new SQLException("the catalog's change counter is missing");
            }
            return r.getLong(1);
        }
    }

    /** Streams the jar into chunks, checking its hash and size, unless the catalog has it already. */
    private static void storeBlobIfAbsent(Connection c, CatalogVersion v, JarSource jar) throws SQLException,
            IOException {
        // The blob's row first: a concurrent publish of the same jar waits here for this one's
        // commit and then finds it stored, instead of colliding on the chunks.
        try (PreparedStatement s = c.prepareStatement("INSERT INTO kiln_blobs (sha256, size, created_at)"
                + " VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING")) {
            s.setString(1, v.jarSha256());
            s.setLong(2, v.jarSize());
            s.setLong(3, System.currentTimeMillis());
            if (s.executeUpdate() == 0) {
                return; // stored, under its hash: its content was checked when it was
            }
        }
        MessageDigest sha256 = sha256();
        long size = 0;
        try (InputStream in = jar.open();
             PreparedStatement s = c.prepareStatement(
                     "INSERT INTO kiln_blob_chunks (sha256, idx, data) VALUES (?, ?, ?)")) {
            byte[] buf = new byte[CHUNK];
            int idx = 0;
            int n;
            while ((n = in.readNBytes(buf, 0, CHUNK)) > 0) {
                byte[] chunk = n == CHUNK ? buf : Arrays.copyOf(buf, n);
                sha256.update(chunk, 0, n);
                size += n;
                s.setString(1, v.jarSha256());
                s.setInt(2, idx++);
                s.setBytes(3, chunk);
                s.executeUpdate();
            }
        }
        String actual = HexFormat.of().formatHex(sha256.digest());
        if (!actual.equals(v.jarSha256()) || size != v.jarSize()) {
            // Thrown inside the transaction: the blob's row and chunks are rolled back with it.
            throw new IllegalArgumentException("the jar given for " + v.id() + " is sha256:" + actual + " (" + size
                    + " bytes), not sha256:" + v.jarSha256() + " (" + v.jarSize() + " bytes)");
        }
    }

    // ---- reads ----------------------------------------------------------------------------

    /** Every function's row and the change they are as of, in one statement. */
    public CatalogState state() throws SQLException {
        List<CatalogEntry> all = entries(-1);
        long seq = all.stream().mapToLong(CatalogEntry::seq).max().orElse(0);
        return new CatalogState(seq, all);
    }

    /** The rows written by changes after {@code seq}, oldest change first. */
    public List<CatalogEntry> changesSince(long seq) throws SQLException {
        return entries(seq);
    }

    private List<CatalogEntry> entries(long after) throws SQLException {
        return db.transaction(c -> {
            List<CatalogEntry> out = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT f.name, f.changed_seq, f.deleted, " + VERSION_COLUMNS
                    + " FROM kiln_functions f LEFT JOIN kiln_versions v ON v.name = f.name"
                    + " AND v.version = f.current_version WHERE f.changed_seq > ?"
                    + (after < 0 ? " ORDER BY f.name" : " ORDER BY f.changed_seq"))) {
                s.setLong(1, after);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        boolean deleted = r.getInt(3) != 0;
                        out.add(new CatalogEntry(r.getString(1), r.getLong(2), deleted ? null : version(r, 4)));
                    }
                }
            }
            return out;
        });
    }

    /** The function's current version, if it exists. */
    public Optional<CatalogVersion> current(String name) throws SQLException {
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT " + VERSION_COLUMNS + " FROM kiln_functions f"
                    + " JOIN kiln_versions v ON v.name = f.name AND v.version = f.current_version"
                    + " WHERE f.name = ? AND f.deleted = 0")) {
                s.setString(1, name);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? Optional.of(version(r, 1)) : Optional.empty();
                }
            }
        });
    }

    /** The kept versions of a function, oldest first; empty if there is none. */
    public List<CatalogVersion> versions(String name) throws SQLException {
        return db.transaction(c -> {
            List<CatalogVersion> out = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT " + VERSION_COLUMNS + " FROM kiln_versions v"
                    + " WHERE v.name = ? ORDER BY v.version")) {
                s.setString(1, name);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        out.add(version(r, 1));
                    }
                }
            }
            return out;
        });
    }

    /** The current version of every function that exists, by name. */
    public List<CatalogVersion> list() throws SQLException {
        return state().live();
    }

    /** Whether the catalog holds a jar. */
    public boolean hasJar(String sha256) throws SQLException {
        return jarSize(sha256) >= 0;
    }

    /** How many jars the catalog holds. */
    public int jars() throws SQLException {
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT COUNT(*) FROM kiln_blobs");
                 ResultSet r = s.executeQuery()) {
                r.next();
                return r.getInt(1);
            }
        });
    }

    private long jarSize(String sha256) throws SQLException {
        return db.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT size FROM kiln_blobs WHERE sha256 = ?")) {
                s.setString(1, sha256);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? r.getLong(1) : -1L;
                }
            }
        });
    }

    /**
     * The jar's bytes, read one chunk (one short transaction) at a time as the stream is read,
     * so neither a connection nor more than a chunk is held while the reader works.
     *
     * @throws IOException if the catalog has no such jar; the stream throws it if the jar is
     *                     collected while it is read
     */
    public InputStream openJar(String sha256) throws SQLException, IOException {
        long size = jarSize(sha256);
        if (size < 0) {
            throw new IOException("the catalog has no jar sha256:" + sha256);
        }
        return new ChunkStream(sha256, size);
    }

    private final class ChunkStream extends InputStream {
        private final String sha256;
        private final long chunks;
        private int next;
        private byte[] chunk = new byte[0];
        private int pos;

        ChunkStream(String sha256, long size) {
            this.sha256 = sha256;
            this.chunks = (size + CHUNK - 1) / CHUNK;
        }

        /** Loads the next chunk if the current one is used up; false at the end. */
        private boolean fill() throws IOException {
            while (pos == chunk.length) {
                if (next >= chunks) {
                    return false;
                }
                try {
                    byte[] got = db.transaction(c -> {
                        try (PreparedStatement s = c.prepareStatement(
                                "SELECT data FROM kiln_blob_chunks WHERE sha256 = ? AND idx = ?")) {
                            s.setString(1, sha256);
                            s.setInt(2, next);
                            try (ResultSet r = s.executeQuery()) {
                                return r.next() ? r.getBytes(1) : null;
                            }
                        }
                    });
                    if (got == null) {
                        throw new IOException("chunk " + next + " of jar sha256:" + sha256
                                + " is gone (the jar was collected while it was read)");
                    }
                    chunk = got;
                    pos = 0;
                    next++;
                } catch (SQLException e) {
                    throw new IOException("reading jar sha256:" + sha256 + " from the catalog: " + e.getMessage(), e);
                }
            }
            return true;
        }

        @Override
        public int read() throws IOException {
            return fill() ? chunk[pos++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (!fill()) {
                return -1;
            }
            int n = Math.min(len, chunk.length - pos);
            System.arraycopy(chunk, pos, b, off, n);
            pos += n;
            return n;
        }
    }

    private static CatalogVersion version(ResultSet r, int from) throws SQLException {
        return new CatalogVersion(r.getString(from), r.getLong(from + 1), r.getString(from + 2), r.getLong(from + 3),
                r.getString(from + 4), r.getLong(from + 5));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
