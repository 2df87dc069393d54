package io.kiln.queue.topic;

import io.kiln.queue.testing.PostgresServer;

/** Topics on a real PostgreSQL server (scripts/test-postgres.sh). */
class PostgresTopicStoreTest extends TopicStoreContract {

    @Override
    String freshUrl() {
        return PostgresServer.shared().freshDatabase("topics");
    }
}
