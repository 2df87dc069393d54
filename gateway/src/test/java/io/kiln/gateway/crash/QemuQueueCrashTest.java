package io.kiln.gateway.crash;

import io.kiln.queue.db.Database;

import java.nio.file.Path;

/**
 * The crash test, smaller, on the real engine (QEMU here): 100 calls, a job of 200 records, 2 kills. The function's
 * instances are restored from the snapshots the first process made, after each restart.
 */
class QemuQueueCrashTest extends QueueCrashContract {
    @Override
    String queueUrl(Path data) {
        return Database.sqliteUrl(data);
    }

    @Override
    int calls() {
        return 100;
    }

    @Override
    int kills() {
        return 2;
    }

    @Override
    int records() {
        return 200;
    }

    @Override
    String engine() {
        return "auto";
    }
}
