package io.kiln.queue.schedule;

import io.kiln.queue.db.Database;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** Schedules on the embedded store. */
class SqliteScheduleStoreTest extends ScheduleStoreContract {

    @TempDir
    Path dir;

    @Override
    String freshUrl() {
        return Database.sqliteUrl(dir);
    }
}
