package io.kiln.gateway.crash;

import io.kiln.queue.testing.PostgresServer;

import java.nio.file.Path;

/** The crash test on a real PostgreSQL server (scripts/test-postgres.sh), a fresh database of its own. */
class PostgresQueueCrashTest extends QueueCrashContract {
    @Override
    String queueUrl(Path data) {
        return PostgresServer.shared().freshDatabase("crash");
    }
}
