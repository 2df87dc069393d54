package io.kiln.gateway.events;

import io.kiln.queue.db.Database;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The durable queue's settings.
 *
 * @param url           {@code jdbc:sqlite:FILE} (the default: {@code queue.db} in the data
 *                      directory) or {@code jdbc:postgresql://...}
 * @param node          this node's name, recorded on every attempt; a restarted node rescues
 *                      the work its previous process left running
 * @param concurrency   queue items this node runs at once
 * @param lease         how long a claimed item stays this node's without a heartbeat; the
 *                      heartbeat renews it every third of that
 * @param poll          how often the worker looks for due work without being woken (retries
 *                      whose backoff ends, other nodes' work on SQLite-less stores)
 * @param retention     ended (succeeded, cancelled) items are kept this long, so their status
 *                      and idempotency keys last that long
 * @param deadRetention dead letters are kept this long
 */
public record QueueConfig(String url, String node, int concurrency, Duration lease, Duration poll,
                          Duration retention, Duration deadRetention) {

    public QueueConfig {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("the queue's store URL must not be blank");
        }
        if (node == null || !node.matches("[A-Za-z0-9._-]{1,63}")) {
            throw new IllegalArgumentException("a node name is 1 to 63 letters, digits, '.', '_' or '-', got \""
                    + node + "\"");
        }
        if (concurrency < 1 || concurrency > 10_000) {
            throw new IllegalArgumentException("queue concurrency must be between 1 and 10000, got " + concurrency);
        }
        if (lease.toMillis() < 300 || poll.toMillis() < 10 || retention.isNegative() || deadRetention.isNegative()) {
            throw new IllegalArgumentException("the queue's lease must be at least 300 ms and its poll at least 10 ms");
        }
    }

    /**
     * SQLite in {@code dataDir}, node {@code local}, 64 at once, 30 s leases, a 1 s poll, ended
     * items kept 7 days and dead letters 14.
     */
    public static QueueConfig defaults(Path dataDir) {
        return new QueueConfig(Database.sqliteUrl(dataDir), "local", 64, Duration.ofSeconds(30), Duration.ofSeconds(1),
                Duration.ofDays(7), Duration.ofDays(14));
    }

    /** Whether the store is shared with other nodes (PostgreSQL); SQLite is one node's own file. */
    public boolean shared() {
        return url.startsWith("jdbc:postgresql:");
    }

    /**
     * How long a node leaves newly due work of a function it has no instance of to the nodes that
     * have one warm: on a shared store 250 ms (they are woken at once by NOTIFY, so they claim
     * first when they have room), on one node nothing.
     */
    public Duration coldClaimDelay() {
        return shared() ? Duration.ofMillis(250) : Duration.ZERO;
    }

    public QueueConfig withUrl(String u) {
        return new QueueConfig(u, node, concurrency, lease, poll, retention, deadRetention);
    }

    public QueueConfig withNode(String n) {
        return new QueueConfig(url, n, concurrency, lease, poll, retention, deadRetention);
    }

    public QueueConfig withConcurrency(int c) {
        return new QueueConfig(url, node, c, lease, poll, retention, deadRetention);
    }

    public QueueConfig withLease(Duration l) {
        return new QueueConfig(url, node, concurrency, l, poll, retention, deadRetention);
    }
}
