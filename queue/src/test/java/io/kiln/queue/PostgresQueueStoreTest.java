package io.kiln.queue;

import io.kiln.queue.db.Database;
import io.kiln.queue.db.Dialect;
import io.kiln.queue.testing.PostgresServer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The queue on a real PostgreSQL server (scripts/test-postgres.sh), plus what only it has: concurrent claims. */
class PostgresQueueStoreTest extends QueueStoreContract {

    @Override
    String freshUrl() {
        return PostgresServer.shared().freshDatabase("queue");
    }

    @Test
    void concurrentWorkersClaimDisjointItemsAndTogetherAllOfThem() throws Exception {
        assertEquals(Dialect.POSTGRES, db.dialect());
        int items = 400;
        List<NewItem> batch = new ArrayList<>();
        for (int i = 0; i < items; i++) {
            batch.add(call("fn", "x" + i, POLICY));
        }
        store.enqueueAll(batch);
        int workers = 4;
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<List<Long>>> claims = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            String owner = "w" + w;
            claims.add(CompletableFuture.supplyAsync(() -> {
                List<Long> mine = new ArrayList<>();
                try {
                    go.await();
                    List<QueueItem> got;
                    while (!(got = store.claim(owner, 7, LEASE)).isEmpty()) {
                        got.forEach(i -> mine.add(i.id()));
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                return mine;
            }));
        }
        go.countDown();
        Set<Long> all = new HashSet<>();
        int total = 0;
        for (CompletableFuture<List<Long>> c : claims) {
            List<Long> mine = c.get(60, TimeUnit.SECONDS);
            total += mine.size();
            all.addAll(mine);
        }
        assertEquals(items, total, "no item claimed twice");
        assertEquals(items, all.size());
        assertTrue(store.stats().available() == 0 && store.stats().running() == items);
    }

    @Test
    void anEnqueueOnOneNodeWakesTheListenersOfAnother() throws Exception {
        AtomicInteger wakes = new AtomicInteger();
        try (Database other = Database.open(url, 1)) {
            other.listen(wakes::incrementAndGet);
            // It wakes once when its LISTEN is in place (for work enqueued while it was away) ...
            waitFor(() -> wakes.get() >= 1, "the listener never connected");
            store.enqueue(call("fn", "x", POLICY));
            // ... and once more for the NOTIFY that the enqueue's commit sent.
            waitFor(() -> wakes.get() >= 2, "no NOTIFY reached the other node's listener");
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier done, String failure) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, failure);
            Thread.sleep(10);
        }
    }
}
