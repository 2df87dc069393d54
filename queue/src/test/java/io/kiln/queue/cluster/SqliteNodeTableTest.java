package io.kiln.queue.cluster;

import io.kiln.queue.db.Database;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

class SqliteNodeTableTest extends NodeTableContract {

    @TempDir
    Path dir;

    @Override
    String freshUrl() {
        return Database.sqliteUrl(dir);
    }
}
