package io.kiln.queue.job;

import io.kiln.queue.testing.PostgresServer;

/** Batch jobs on a real PostgreSQL server (scripts/test-postgres.sh). */
class PostgresJobStoreTest extends JobStoreContract {

    @Override
    String freshUrl() {
        return PostgresServer.shared().freshDatabase("jobs");
    }
}
