package io.kiln.queue.catalog;

import io.kiln.queue.db.Database;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** The catalog on the embedded store (a single node does not use it; the contract is the same). */
class SqliteFunctionCatalogTest extends FunctionCatalogContract {

    @TempDir
    Path dir;

    @Override
    String freshUrl() {
        return Database.sqliteUrl(dir);
    }
}
