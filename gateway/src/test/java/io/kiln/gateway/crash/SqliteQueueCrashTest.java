package io.kiln.gateway.crash;

import io.kiln.queue.db.Database;

import java.nio.file.Path;

/** The crash test on the embedded store: SQLite in the data directory. */
class SqliteQueueCrashTest extends QueueCrashContract {
    @Override
    String queueUrl(Path data) {
        return Database.sqliteUrl(data);
    }
}
