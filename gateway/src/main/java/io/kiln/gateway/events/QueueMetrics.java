package io.kiln.gateway.events;

import io.kiln.queue.QueueStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.time.Clock;

/**
 * The queue's meters: {@code kiln_queue_items{state=available|running|dead}} and
 * {@code kiln_queue_oldest_available_age_seconds} (from the last stats, taken every few seconds),
 * {@code kiln_queue_attempts_total{outcome=succeeded|failed|released}} and
 * {@code kiln_queue_dead_letters_total} (this node's).
 */
final class QueueMetrics {

    private final MeterRegistry registry;
    private final Clock clock;
    private final Counter deadLetters;
    private volatile QueueStore.Stats stats = new QueueStore.Stats(0, 0, 0, null);

    QueueMetrics(MeterRegistry registry, Clock clock) {
        this.registry = registry;
        this.clock = clock;
        this.deadLetters = Counter.builder("kiln.queue.dead.letters").description("items dead-lettered by this node")
                .register(registry);
        Gauge.builder("kiln.queue.items", () -> stats.available()).tag("state", "available")
                .description("queue items by state").register(registry);
        Gauge.builder("kiln.queue.items", () -> stats.running()).tag("state", "running")
                .description("queue items by state").register(registry);
        Gauge.builder("kiln.queue.items", () -> stats.dead()).tag("state", "dead")
                .description("queue items by state").register(registry);
        Gauge.builder("kiln.queue.oldest.available.age", () -> stats.oldestAvailable() == null ? 0
                        : Math.max(0, clock.millis() - stats.oldestAvailable().toEpochMilli()) / 1000.0)
                .baseUnit("seconds").description("age of the oldest item waiting to run").register(registry);
    }

    void stats(QueueStore.Stats s) {
        stats = s;
    }

    QueueStore.Stats stats() {
        return stats;
    }

    void attempt(String outcome) {
        Counter.builder("kiln.queue.attempts").description("attempts ended by this node, by outcome")
                .tag("outcome", outcome).register(registry).increment();
    }

    void deadLettered() {
        deadLetters.increment();
    }

    Clock clock() {
        return clock;
    }
}
