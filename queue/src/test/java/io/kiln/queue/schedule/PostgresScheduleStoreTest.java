package io.kiln.queue.schedule;

import io.kiln.queue.testing.PostgresServer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Schedules on a real PostgreSQL server, plus what only it has: nodes firing at the same moment. */
class PostgresScheduleStoreTest extends ScheduleStoreContract {

    @Override
    String freshUrl() {
        return PostgresServer.shared().freshDatabase("schedules");
    }

    @Test
    void fourNodesFiringAtOnceFireEachFireTimeExactlyOnce() throws Exception {
        List<ScheduleStore> nodes = new ArrayList<>(List.of(store));
        for (int n = 1; n < 4; n++) {
            nodes.add(otherNode("node-" + n));
        }
        List<String> names = List.of("s1", "s2", "s3");
        for (String name : names) {
            store.put(rate(name, "1m", OverlapPolicy.ALLOW));
        }
        ExecutorService pool = Executors.newFixedThreadPool(nodes.size());
        try {
            Map<String, List<Instant>> fired = new HashMap<>();
            for (int step = 1; step <= 10; step++) {
                clock.advance(Duration.ofMinutes(1));
                CountDownLatch go = new CountDownLatch(1);
                List<CompletableFuture<List<Firing>>> runs = new ArrayList<>();
                for (ScheduleStore node : nodes) {
                    runs.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            go.await();
                            return node.fireDue();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }, pool));
                }
                go.countDown();
                for (CompletableFuture<List<Firing>> r : runs) {
                    for (Firing f : r.get(60, TimeUnit.SECONDS)) {
                        fired.computeIfAbsent(f.schedule(), k -> new ArrayList<>()).add(f.fireTime());
                    }
                }
            }
            for (String name : names) {
                List<Instant> expected = new ArrayList<>();
                for (int k = 1; k <= 10; k++) {
                    expected.add(T0.plusSeconds(60L * k));
                }
                assertEquals(expected, fired.get(name).stream().sorted().toList(), name);
                assertEquals(10, items(name), name);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
