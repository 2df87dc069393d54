package io.kiln.queue.cluster;

import io.kiln.queue.testing.PostgresServer;

class PostgresNodeTableTest extends NodeTableContract {

    @Override
    String freshUrl() {
        return PostgresServer.shared().freshDatabase("nodes");
    }
}
