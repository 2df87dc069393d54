package io.kiln.queue.db;

/**
 * The two stores' differences that SQL itself cannot hide. Everything else (the schema, every
 * statement) is the same text on both: BIGINT/TEXT/BYTEA columns, partial unique indexes,
 * {@code INSERT ... ON CONFLICT DO NOTHING} and {@code UPDATE ... RETURNING} are common to
 * SQLite 3.35+ and PostgreSQL 9.5+.
 */
public enum Dialect {
    /** Embedded, one writer: the store's one connection serialises claims, so no row locks are needed. */
    SQLITE(""),
    /** Several workers and nodes: a claim skips rows another transaction has locked instead of waiting. */
    POSTGRES(" FOR UPDATE SKIP LOCKED");

    private final String claimLock;

    Dialect(String claimLock) {
        this.claimLock = claimLock;
    }

    /** Appended to the claim's inner {@code SELECT}. */
    public String claimLock() {
        return claimLock;
    }

    public static Dialect of(String jdbcUrl) {
        if (jdbcUrl.startsWith("jdbc:sqlite:")) {
            return SQLITE;
        }
        if (jdbcUrl.startsWith("jdbc:postgresql:")) {
            return POSTGRES;
        }
        throw new IllegalArgumentException("the queue's store must be jdbc:sqlite:FILE or jdbc:postgresql://HOST/DB,"
                + " got \"" + jdbcUrl + "\"");
    }
}
