package io.kiln.queue.catalog;

import io.kiln.queue.db.Database;
import io.kiln.queue.testing.PostgresServer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The catalog on a real PostgreSQL server (scripts/test-postgres.sh), with what only it has: NOTIFY and concurrent writers. */
class PostgresFunctionCatalogTest extends FunctionCatalogContract {

    @Override
    String freshUrl() {
        return PostgresServer.shared().freshDatabase("catalog");
    }

    @Test
    void everyChangeNotifiesTheCatalogChannelAndNotTheQueues() throws Exception {
        Semaphore catalogWakes = new Semaphore(0);
        AtomicInteger queueWakes = new AtomicInteger();
        CountDownLatch catalogListening = new CountDownLatch(1);
        CountDownLatch queueListening = new CountDownLatch(1);
        // Count each wake before opening its latch: the main thread reads the counts as soon as
        // the latches open, so the first (listening-started) wakes must already be in them.
        db.listen(FunctionCatalog.CHANNEL, () -> {
            catalogWakes.release();
            catalogListening.countDown();
        });
        db.listen(() -> {
            queueWakes.incrementAndGet();
            queueListening.countDown();
        });
        assertTrue(catalogListening.await(10, TimeUnit.SECONDS), "the catalog channel listened to");
        assertTrue(queueListening.await(10, TimeUnit.SECONDS), "the queue channel listened to");
        catalogWakes.drainPermits();
        int queueBefore = queueWakes.get();
        publish("f", 1, jar("a"));
        assertTrue(catalogWakes.tryAcquire(10, TimeUnit.SECONDS), "a publish notifies");
        catalog.delete("f");
        assertTrue(catalogWakes.tryAcquire(10, TimeUnit.SECONDS), "a delete notifies");
        assertEquals(queueBefore, queueWakes.get());
    }

    @Test
    void ofConcurrentPublishesOfTheSameNumberExactlyOneWins() throws Exception {
        publish("f", 1, jar("base"));
        int writers = 6;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<String>> outcomes = new java.util.ArrayList<>();
            for (int i = 0; i < writers; i++) {
                byte[] jar = jar(i % 2 == 0 ? "same" : "other " + i);
                outcomes.add(pool.submit(() -> {
                    go.await();
                    try {
                        publish("f", 2, jar);
                        return "won";
                    } catch (VersionConflict e) {
                        return "conflict " + e.current();
                    }
                }));
            }
            go.countDown();
            List<String> got = new java.util.ArrayList<>();
            for (Future<String> f : outcomes) {
                got.add(f.get(30, TimeUnit.SECONDS));
            }
            assertEquals(1, got.stream().filter("won"::equals).count(), got.toString());
            assertEquals(writers - 1, got.stream().filter("conflict 2"::equals).count(), got.toString());
            assertEquals(2, catalog.versions("f").size());
            assertEquals(2, catalog.jars());
        } finally {
            pool.shutdownNow();
        }
    }
}
