package io.kiln.gateway.crash;

import io.kiln.queue.testing.PostgresServer;

import java.nio.file.Path;

/**
 * The crash test on a real PostgreSQL server (scripts/test-postgres.sh), a fresh database of its
 * own, smaller than SQLite's: 1,000 calls and 5 kills as there, but a job of 4,000 records (not
 * 10,000). The job's records are most of the run's time, and what this run adds to SQLite's
 * full-size one is the other store's claims, rescues and job bookkeeping under kills, which a
 * smaller job exercises the same way; the cluster's kill test (cluster/ClusterKillTest) puts
 * PostgreSQL under {@code kill -9} again, with three nodes.
 */
class PostgresQueueCrashTest extends QueueCrashContract {
    @Override
    String queueUrl(Path data) {
        return PostgresServer.shared().freshDatabase("crash");
    }

    @Override
    int records() {
        return 4000;
    }
}
