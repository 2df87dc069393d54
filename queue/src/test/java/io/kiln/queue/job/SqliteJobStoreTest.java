package io.kiln.queue.job;

import io.kiln.queue.db.Database;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** Batch jobs on the embedded store. */
class SqliteJobStoreTest extends JobStoreContract {

    @TempDir
    Path dir;

    @Override
    String freshUrl() {
        return Database.sqliteUrl(dir);
    }
}
