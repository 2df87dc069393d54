package io.kiln.queue.db;

import io.kiln.queue.testing.PostgresServer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Nodes of a cluster started together on a new PostgreSQL database each open the store at once:
 * one migrates, the others wait for it and find the schema current. (Without the advisory lock,
 * all but one failed on PostgreSQL's own catalog; the cluster tests found it.)
 */
class PostgresConcurrentMigrationsTest {

    @Test
    void fourNodesOpeningANewDatabaseAtOnceAllSucceed() throws Exception {
        String url = PostgresServer.shared().freshDatabase("migrate");
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(4); // not the common pool: one thread on 2 cores
        List<CompletableFuture<Integer>> opens = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            opens.add(CompletableFuture.supplyAsync(() -> {
                try {
                    go.await();
                    try (Database db = Database.open(url, 1)) {
                        return db.schemaVersion();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, threads));
        }
        go.countDown();
        for (CompletableFuture<Integer> f : opens) {
            assertEquals(Database.knownSchemaVersion(), f.get(60, TimeUnit.SECONDS));
        }
        threads.shutdown();
    }
}
