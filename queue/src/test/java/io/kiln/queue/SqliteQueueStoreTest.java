package io.kiln.queue;

import io.kiln.queue.db.Database;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The queue on the embedded store, and what only a file can show: it is still there after a reopen. */
class SqliteQueueStoreTest extends QueueStoreContract {

    @TempDir
    Path dir;

    @Override
    String freshUrl() {
        return Database.sqliteUrl(dir);
    }

    @Test
    void workSurvivesClosingAndReopeningTheStore() throws Exception {
        long id = store.enqueue(call("fn", "kept", POLICY)).item().id();
        db.close();
        db = Database.open(freshUrl(), 1);
        store = new QueueStore(db, clock, "node-a", fixedRandom());
        assertEquals("kept", new String(store.get(id).input()));
        assertEquals(Database.knownSchemaVersion(), db.schemaVersion());
        assertTrue(Database.knownSchemaVersion() >= 2, "the queue and the schedules at least");
        assertTrue(Files.exists(dir.resolve("queue.db")));
    }

    @Test
    void aStoreFromANewerKilnIsRefused() throws Exception {
        db.transaction(c -> {
            try (Statement s = c.createStatement()) {
                s.execute("INSERT INTO kiln_schema (version, name, applied_at) VALUES (99, 'V99__future.sql', 0)");
            }
            return null;
        });
        db.close();
        SQLException e = assertThrows(SQLException.class, () -> Database.open(freshUrl(), 1));
        assertEquals("the queue's store has schema version 99 but this Kiln knows only " + Database.knownSchemaVersion()
                + ": it was written by a newer"
                + " Kiln; upgrade, or point --queue-url elsewhere", e.getMessage());
        db = Database.open(Database.sqliteUrl(dir.resolve("other")), 1);
    }

    @Test
    void submittedTransactionsCommitTogetherYetEachStaysAtomic() throws Exception {
        List<CompletableFuture<QueueStore.Enqueued>> ok = new ArrayList<>();
        CompletableFuture<Object> failing = null;
        for (int i = 0; i < 300; i++) {
            NewItem item = call("fn", "x" + i, POLICY);
            ok.add(db.submit(c -> store.enqueue(c, item)));
            if (i == 150) {
                // Writes a row, then fails: its row must go, and nobody else's with it.
                failing = db.submit(c -> {
                    store.enqueue(c, NewItem.call(999_999, "fn", new byte[0], null, null, null, "api", POLICY));
                    throw new SQLException("this one fails");
                });
            }
        }
        for (CompletableFuture<QueueStore.Enqueued> f : ok) {
            assertFalse(f.get(30, TimeUnit.SECONDS).existing());
        }
        ExecutionException e = assertThrows(ExecutionException.class, failing::get);
        assertEquals("this one fails", e.getCause().getMessage());
        assertNull(store.get(999_999));
        assertEquals(300, store.stats().available());
    }

    @Test
    void anUnknownStoreUrlIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Database.open("jdbc:mysql://x/y", 1));
        assertEquals("the queue's store must be jdbc:sqlite:FILE or jdbc:postgresql://HOST/DB, got"
                + " \"jdbc:mysql://x/y\"", e.getMessage());
        assertEquals(Duration.ZERO, Duration.ZERO);
    }
}
