package io.kiln.queue;

import io.kiln.queue.db.Database;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
        assertEquals(2, db.schemaVersion());
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
        assertEquals("the queue's store has schema version 99 but this Kiln knows only 2: it was written by a newer"
                + " Kiln; upgrade, or point --queue-url elsewhere", e.getMessage());
        db = Database.open(Database.sqliteUrl(dir.resolve("other")), 1);
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
