package io.kiln.queue.cluster;

import io.kiln.queue.NewItem;
import io.kiln.queue.QueueItem;
import io.kiln.queue.QueueStore;
import io.kiln.queue.RetryPolicy;
import io.kiln.queue.db.Database;
import io.kiln.queue.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Membership rows, dead-node rescue and shared settings, the same on both stores. */
abstract class NodeTableContract {

    static final Instant T0 = Instant.parse("2026-11-30T12:00:00Z");
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    final MutableClock clock = new MutableClock(T0);
    Database db;
    NodeTable nodes;

    abstract String freshUrl() throws Exception;

    @BeforeEach
    void open() throws Exception {
        db = Database.open(freshUrl(), 4);
        nodes = new NodeTable(db, clock);
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void registerHeartbeatAndStatesAreWhatPeersRead() throws Exception {
        nodes.register("b", "http://127.0.0.1:2", "process", "{}");
        nodes.register("a", "http://127.0.0.1:1", "qemu-tcg", "{\"callsInFlight\":0}");
        clock.advance(Duration.ofSeconds(3));
        assertTrue(nodes.heartbeat("a", "{\"callsInFlight\":4}"));
        nodes.state("b", NodeRow.DRAINING);

        List<NodeRow> rows = nodes.list();
        assertEquals(List.of("a", "b"), rows.stream().map(NodeRow::node).toList());
        NodeRow a = rows.get(0);
        assertEquals(new NodeRow("a", "http://127.0.0.1:1", "qemu-tcg", NodeRow.UP, T0,
                T0.plusSeconds(3), "{\"callsInFlight\":4}"), a);
        assertEquals(NodeRow.DRAINING, rows.get(1).state());
        assertTrue(nodes.heartbeat("b", "{}"), "a draining node still heartbeats");
    }

    @Test
    void aSilentNodeIsDeclaredDeadOnceAndItsRunningWorkIsQueuedAgain() throws Exception {
        QueueStore queueA = new QueueStore(db, clock, "a", new Random(1));
        QueueStore queueB = new QueueStore(db, clock, "b", new Random(2));
        RetryPolicy policy = new RetryPolicy(2, Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofHours(1));
        for (int i = 1; i <= 3; i++) {
            queueA.enqueue(NewItem.call(i, "fn", ("in" + i).getBytes(StandardCharsets.UTF_8), null, null, null,
                    "api", policy));
        }
        nodes.register("a", "http://a", "process", "{}");
        nodes.register("b", "http://b", "process", "{}");
        List<QueueItem> onB = queueB.claim("b/1", 2, Duration.ofSeconds(30));
        List<QueueItem> onA = queueA.claim("a/1", 2, Duration.ofSeconds(30));
        assertEquals(2, onB.size());
        assertEquals(1, onA.size());

        clock.advance(Duration.ofSeconds(9));
        assertTrue(nodes.heartbeat("a", "{}"));
        assertEquals(-1, nodes.declareDead("b", TIMEOUT, queueA), "9 s of silence is within the timeout");
        clock.advance(Duration.ofSeconds(2)); // b silent for 11 s, a for 2 s
        assertEquals(-1, nodes.declareDead("a", TIMEOUT, queueB));
        assertEquals(2, nodes.declareDead("b", TIMEOUT, queueA), "b's two running items come back");
        assertEquals(-1, nodes.declareDead("b", TIMEOUT, queueA), "declared once");
        assertEquals(NodeRow.DEAD, nodes.list().get(1).state());
        assertFalse(nodes.heartbeat("b", "{}"), "a node declared dead learns it at its next heartbeat");

        for (QueueItem i : onB) {
            QueueItem now = queueA.get(i.id());
            assertEquals(QueueItem.State.AVAILABLE, now.state());
            assertEquals("interrupted", queueA.attempts(i.id()).get(0).outcome());
        }
        assertEquals(QueueItem.State.RUNNING, queueA.get(onA.get(0).id()).state(), "a's own work is not touched");
        clock.advance(Duration.ofSeconds(2)); // the retry's backoff, at most 1 s
        assertEquals(2, queueA.claim("a/1", 5, Duration.ofSeconds(30)).size(), "after the backoff, a claims them");

        nodes.register("b", "http://b", "process", "{}");
        assertEquals(NodeRow.UP, nodes.list().get(1).state(), "a node that comes back rejoins");
        assertTrue(nodes.heartbeat("b", "{}"));
    }

    @Test
    void aSharedSettingIsTheFirstProposal() throws Exception {
        assertEquals("first", nodes.setting("internal_secret", "first"));
        assertEquals("first", nodes.setting("internal_secret", "second"));
        assertEquals("t", nodes.setting("management_token", "t"));
        assertEquals(64, NodeTable.newSecret().length());
        assertFalse(NodeTable.newSecret().equals(NodeTable.newSecret()));
    }
}
