package io.kiln.queue.topic;

import io.kiln.queue.db.Database;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** Topics on the embedded store. */
class SqliteTopicStoreTest extends TopicStoreContract {

    @TempDir
    Path dir;

    @Override
    String freshUrl() {
        return Database.sqliteUrl(dir);
    }
}
