package io.kiln.queue;

import io.kiln.queue.db.Database;
import io.kiln.queue.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.random.RandomGenerator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The queue's lifecycle, the same on both stores: each subclass gives an empty store. Time is a
 * {@link MutableClock}; the backoff's jitter draws a fixed 0.5, so each delay is exactly 3/4 of
 * its un-jittered value.
 */
abstract class QueueStoreContract {

    static final Instant T0 = Instant.parse("2026-11-30T12:00:00Z");
    static final Duration LEASE = Duration.ofSeconds(30);
    static final RetryPolicy POLICY = new RetryPolicy(2, Duration.ofSeconds(2), Duration.ofSeconds(60),
            Duration.ofHours(1));

    final MutableClock clock = new MutableClock(T0);
    String url;
    Database db;
    QueueStore store;
    long nextId = 1;

    /** A JDBC URL of an empty store, new for each test. */
    abstract String freshUrl() throws Exception;

    @BeforeEach
    void open() throws Exception {
        url = freshUrl();
        db = Database.open(url, 4);
        store = new QueueStore(db, clock, "node-a", fixedRandom());
    }

    @AfterEach
    void close() {
        db.close();
    }

    static RandomGenerator fixedRandom() {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                return 0;
            }

            @Override
            public double nextDouble() {
                return 0.5;
            }
        };
    }

    NewItem call(String function, String input, RetryPolicy p) {
        return NewItem.call(nextId++, function, input.getBytes(StandardCharsets.UTF_8), null, null, null, "api", p);
    }

    QueueItem claimOne(String owner) throws SQLException {
        List<QueueItem> got = store.claim(owner, 10, LEASE);
        assertEquals(1, got.size(), "claimed " + got);
        return got.get(0);
    }

    @Test
    void enqueuedWorkIsClaimedOnceAndSucceeds() throws Exception {
        QueueStore.Enqueued e = store.enqueue(call("fn", "hello", POLICY));
        assertFalse(e.existing());
        assertEquals(QueueItem.State.AVAILABLE, e.item().state());
        assertEquals(T0, e.item().createdAt());

        QueueItem claimed = claimOne("w1");
        assertEquals(e.item().id(), claimed.id());
        assertEquals(QueueItem.State.RUNNING, claimed.state());
        assertEquals(1, claimed.attempt());
        assertArrayEquals("hello".getBytes(StandardCharsets.UTF_8), claimed.input());
        assertEquals(List.of(), store.claim("w2", 10, LEASE), "a running item is not claimed twice");

        assertTrue(store.succeed(claimed.id(), "w1", "{\"status\":200}".getBytes(StandardCharsets.UTF_8)));
        QueueItem done = store.get(claimed.id());
        assertEquals(QueueItem.State.SUCCEEDED, done.state());
        assertEquals("{\"status\":200}", new String(done.result(), StandardCharsets.UTF_8));
        assertEquals(T0, done.finishedAt());
        assertEquals(List.of(new Attempt(1, "node-a", T0, T0, "succeeded", null, null, null)), store.attempts(done.id()));
        assertEquals(List.of(), store.claim("w1", 10, LEASE));
    }

    @Test
    void claimsTakeTheOldestDueFirstAndNotMoreThanAsked() throws Exception {
        for (int i = 0; i < 5; i++) {
            store.enqueue(call("fn", "x" + i, POLICY));
            clock.advance(Duration.ofMillis(1));
        }
        List<QueueItem> first = store.claim("w1", 3, LEASE);
        assertEquals(List.of("x0", "x1", "x2"), first.stream().map(i -> new String(i.input())).toList());
        assertEquals(List.of("x3", "x4"), store.claim("w2", 3, LEASE).stream().map(i -> new String(i.input())).toList());
    }

    @Test
    void aClaimForOneFunctionTakesOnlyItsItems() throws Exception {
        store.enqueue(call("a", "a1", POLICY));
        store.enqueue(call("b", "b1", POLICY));
        store.enqueue(call("a", "a2", POLICY));
        assertEquals(List.of("a", "b"), store.dueFunctions(10).stream().sorted().toList());
        assertEquals(List.of("a1", "a2"), store.claim("w", "a", 5, LEASE).stream().map(i -> new String(i.input()))
                .toList());
        assertEquals(List.of("b"), store.dueFunctions(10));
        assertEquals(List.of(), store.claim("w", "a", 5, LEASE));
    }

    @Test
    void anIdempotencyKeyMakesARepeatedSubmitTheFirstItem() throws Exception {
        NewItem first = NewItem.call(100, "fn", new byte[]{1}, null, null, "order-7", "api", POLICY);
        NewItem again = NewItem.call(101, "fn", new byte[]{2}, null, null, "order-7", "api", POLICY);
        NewItem other = NewItem.call(102, "other", new byte[]{3}, null, null, "order-7", "api", POLICY);
        assertFalse(store.enqueue(first).existing());
        QueueStore.Enqueued repeated = store.enqueue(again);
        assertTrue(repeated.existing());
        assertEquals(100, repeated.item().id());
        assertArrayEquals(new byte[]{1}, repeated.item().input());
        assertFalse(store.enqueue(other).existing(), "keys are per function");
        assertEquals(2, store.claim("w", 10, LEASE).size());
    }

    @Test
    void aFailureIsRetriedAfterAnExponentialJitteredBackoffThenDeadLettered() throws Exception {
        long id = store.enqueue(call("fn", "in", POLICY)).item().id();

        claimOne("w");
        QueueStore.Failed f1 = store.fail(id, "w", new Failure("function_error", "boom 1", true));
        // Retry 1: 2 s * 2^0 * 0.75.
        assertEquals(new QueueStore.Failed(true, false, T0.plusMillis(1500)), f1);
        clock.advance(Duration.ofMillis(1499));
        assertEquals(List.of(), store.claim("w", 10, LEASE), "not before its backoff");
        clock.advance(Duration.ofMillis(1));
        assertEquals(2, claimOne("w").attempt());
        // Retry 2: 2 s * 2^1 * 0.75.
        Instant t2 = clock.instant();
        assertEquals(t2.plusMillis(3000), store.fail(id, "w", new Failure("timeout", "boom 2", true)).retryAt());
        clock.advance(Duration.ofMillis(3000));
        assertEquals(3, claimOne("w").attempt());
        Instant t3 = clock.instant();
        assertEquals(new QueueStore.Failed(true, true, null),
                store.fail(id, "w", new Failure("function_error", "boom 3", true)));

        QueueItem dead = store.get(id);
        assertEquals(QueueItem.State.DEAD, dead.state());
        assertEquals("function_error", dead.errorCode());
        assertEquals("boom 3 (after 3 attempts; retries exhausted)", dead.errorMessage());
        assertEquals(List.of(
                new Attempt(1, "node-a", T0, T0, "failed", "function_error", "boom 1", null),
                new Attempt(2, "node-a", t2, t2, "failed", "timeout", "boom 2", null),
                new Attempt(3, "node-a", t3, t3, "failed", "function_error", "boom 3", null)), store.attempts(id));
        assertEquals(List.of(id), store.deadLetters("fn", 100).stream().map(QueueItem::id).toList());
        assertEquals(List.of(), store.deadLetters("other", 100));
    }

    @Test
    void theBackoffIsCappedAtItsMaximum() {
        RetryPolicy p = new RetryPolicy(50, Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ZERO);
        assertEquals(Duration.ofMillis(500), p.delayBefore(1, 0.0));
        assertEquals(Duration.ofMillis(999), p.delayBefore(1, 0.999));
        assertEquals(Duration.ofMillis(4000), p.delayBefore(4, 0.0));
        assertEquals(Duration.ofMillis(5000), p.delayBefore(5, 0.0), "8 s capped at 10 s, halved");
        assertEquals(Duration.ofMillis(5000), p.delayBefore(50, 0.0));
    }

    @Test
    void retriesOffMeansOneAttemptOnly() throws Exception {
        long id = store.enqueue(call("fn", "in", new RetryPolicy(0, Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ZERO))).item().id();
        claimOne("w");
        assertTrue(store.fail(id, "w", new Failure("function_error", "boom", true)).dead());
        assertEquals("boom (retries are off)", store.get(id).errorMessage());
    }

    @Test
    void aFailureNoRetryCanFixIsDeadLetteredAtOnce() throws Exception {
        long id = store.enqueue(call("fn", "in", POLICY)).item().id();
        claimOne("w");
        assertTrue(store.fail(id, "w", new Failure("bad_input", "not JSON", false)).dead());
        QueueItem dead = store.get(id);
        assertEquals("bad_input", dead.errorCode());
        assertEquals("not JSON", dead.errorMessage());
    }

    @Test
    void workOlderThanItsMaximumAgeIsDeadLetteredNotRun() throws Exception {
        long id = store.enqueue(call("fn", "in", POLICY)).item().id();
        clock.advance(Duration.ofHours(1).plusMillis(1));
        assertEquals(List.of(), store.claim("w", 10, LEASE));
        QueueItem dead = store.get(id);
        assertEquals(QueueItem.State.DEAD, dead.state());
        assertEquals("max_event_age", dead.errorCode());
        assertEquals("older than its maximum event age of 3600000 ms; not run", dead.errorMessage());
    }

    @Test
    void aRetryThatWouldPassTheMaximumAgeIsNotScheduled() throws Exception {
        long id = store.enqueue(call("fn", "in", POLICY)).item().id();
        clock.advance(Duration.ofMinutes(59).plusSeconds(59));
        claimOne("w");
        QueueStore.Failed f = store.fail(id, "w", new Failure("timeout", "slow", true));
        assertTrue(f.dead());
        assertEquals("slow (a retry would pass its maximum event age of 3600000 ms)", store.get(id).errorMessage());
    }

    @Test
    void aDeadWorkersLeaseRunsOutAndItsWorkIsRunAgain() throws Exception {
        long id = store.enqueue(call("fn", "in", POLICY)).item().id();
        claimOne("dead-worker");
        clock.advance(LEASE);
        assertEquals(0, store.rescueExpired(), "the lease still holds at its last millisecond");
        clock.advance(Duration.ofMillis(1));
        assertEquals(1, store.rescueExpired());
        // Interrupted counts as attempt 1: retry 1's backoff applies.
        clock.advance(Duration.ofMillis(1500));
        QueueItem again = claimOne("w2");
        assertEquals(2, again.attempt());
        assertFalse(store.succeed(id, "dead-worker", new byte[0]), "the old owner cannot complete it");
        assertTrue(store.succeed(id, "w2", new byte[0]));
        List<Attempt> attempts = store.attempts(id);
        assertEquals("interrupted", attempts.get(0).outcome());
        assertEquals("its node stopped renewing the lease (killed, or cut off from the store)",
                attempts.get(0).errorMessage());
        assertEquals("succeeded", attempts.get(1).outcome());
    }

    @Test
    void aHeartbeatKeepsTheLease() throws Exception {
        store.enqueue(call("fn", "in", POLICY));
        claimOne("w");
        clock.advance(Duration.ofSeconds(20));
        assertEquals(1, store.heartbeat("w", LEASE));
        clock.advance(Duration.ofSeconds(20));
        assertEquals(0, store.rescueExpired());
        assertEquals(0, store.heartbeat("someone-else", LEASE));
    }

    @Test
    void interruptedWorkWithRetriesOffIsDeadLetteredNotRunTwice() throws Exception {
        long id = store.enqueue(call("fn", "in", new RetryPolicy(0, Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ZERO))).item().id();
        claimOne("node-a/old");
        assertEquals(1, store.rescueOwnPrevious("node-a/new"));
        QueueItem dead = store.get(id);
        assertEquals(QueueItem.State.DEAD, dead.state());
        assertEquals("attempt 1 was interrupted: its node restarted while the attempt ran (retries are off)",
                dead.errorMessage());
    }

    @Test
    void aRestartedNodeRescuesOnlyItsOwnPreviousWork() throws Exception {
        store.enqueue(call("fn", "a", POLICY));
        store.enqueue(call("fn", "b", POLICY));
        store.claim("node-a/old", 1, LEASE);
        QueueStore other = new QueueStore(db, clock, "node-b", fixedRandom());
        other.claim("node-b/1", 1, LEASE);
        assertEquals(1, store.rescueOwnPrevious("node-a/new"));
        assertEquals(0, store.rescueOwnPrevious("node-a/new"));
        assertEquals(1, store.stats().running());
    }

    @Test
    void aReleasedAttemptDoesNotCount() throws Exception {
        long id = store.enqueue(call("fn", "in", POLICY)).item().id();
        claimOne("w");
        assertTrue(store.release(id, "w", Duration.ofSeconds(1)));
        assertEquals(List.of(), store.claim("w", 10, LEASE));
        clock.advance(Duration.ofSeconds(1));
        assertEquals(1, claimOne("w").attempt());
        assertEquals(1, store.attempts(id).size());
    }

    @Test
    void redriveGivesDeadLettersAFreshSetOfAttemptsAndKeepsTheirHistory() throws Exception {
        long a = store.enqueue(call("fn", "a", new RetryPolicy(0, Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ZERO))).item().id();
        long b = store.enqueue(call("fn", "b", new RetryPolicy(0, Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ZERO))).item().id();
        for (QueueItem i : store.claim("w", 10, LEASE)) {
            store.fail(i.id(), "w", new Failure("function_error", "no", true));
        }
        assertEquals(2, store.deadLetters("fn", 10).size());
        assertEquals(1, store.redrive("fn", List.of(a)));
        assertEquals(0, store.redrive("fn", List.of(a)), "already re-driven");
        QueueItem again = claimOne("w");
        assertEquals(a, again.id());
        assertEquals(1, again.attempt());
        assertEquals(2, again.attemptsTotal());
        assertTrue(store.succeed(a, "w", new byte[0]));
        assertEquals(1, store.redrive("fn", null));
        assertEquals(b, claimOne("w").id());
        assertEquals(List.of(), store.deadLetters("fn", 10));
    }

    @Test
    void theSweeperDeletesEndedWorkPastItsRetention() throws Exception {
        long ok = store.enqueue(call("fn", "ok", POLICY)).item().id();
        long bad = store.enqueue(call("fn", "bad", POLICY)).item().id();
        long waiting = store.enqueue(call("fn", "later", POLICY)).item().id();
        for (QueueItem i : store.claim("w", 2, LEASE)) {
            if (i.id() == ok) {
                store.succeed(ok, "w", new byte[0]);
            } else {
                store.fail(bad, "w", new Failure("bad_input", "no", false));
            }
        }
        clock.advance(Duration.ofDays(2));
        assertEquals(0, store.sweep(T0, T0));
        assertEquals(1, store.sweep(clock.instant(), T0));
        assertNull(store.get(ok));
        assertEquals(List.of(), store.attempts(ok));
        assertEquals(QueueItem.State.DEAD, store.get(bad).state());
        assertEquals(1, store.sweep(clock.instant(), clock.instant()));
        assertNull(store.get(bad));
        assertEquals(QueueItem.State.AVAILABLE, store.get(waiting).state(), "work not ended is never swept");
    }

    @Test
    void statsCountTheQueue() throws Exception {
        assertEquals(new QueueStore.Stats(0, 0, 0, null), store.stats());
        store.enqueue(call("fn", "a", POLICY));
        clock.advance(Duration.ofSeconds(1));
        store.enqueue(call("fn", "b", POLICY));
        store.claim("w", 1, LEASE);
        assertEquals(new QueueStore.Stats(1, 1, 0, T0.plusSeconds(1)), store.stats());
    }

    @Test
    void endListenersHearEveryEndForGoodWhoeverRecordsIt() throws Exception {
        List<String> ends = new java.util.concurrent.CopyOnWriteArrayList<>();
        store.onEnded((c, i) -> ends.add(new String(i.input()) + ":" + i.state() + ":" + i.errorCode()));
        RetryPolicy once = new RetryPolicy(0, Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofHours(1));
        long ok = store.enqueue(call("fn", "ok", once)).item().id();
        long retried = store.enqueue(call("fn", "retried", POLICY)).item().id();
        long bad = store.enqueue(call("fn", "bad", once)).item().id();
        long lost = store.enqueue(call("fn", "lost", once)).item().id();
        store.claim("w", 10, LEASE);
        store.succeed(ok, "w", new byte[0]);
        store.fail(retried, "w", new Failure("timeout", "slow", true));
        store.fail(bad, "w", new Failure("bad_input", "no", false));
        clock.advance(LEASE.plusMillis(1));
        store.rescueExpired(); // "lost" was interrupted with retries off: dead, by the reaper
        store.enqueue(call("fn", "old", POLICY));
        clock.advance(Duration.ofHours(2));
        store.claim("w2", 10, LEASE); // "retried" and "old" are past their age: dead, by the claim
        assertEquals(List.of("ok:SUCCEEDED:null", "bad:DEAD:bad_input", "lost:DEAD:interrupted",
                "retried:DEAD:max_event_age", "old:DEAD:max_event_age"), ends);
        assertEquals(QueueItem.State.DEAD, store.get(lost).state());
    }

    @Test
    void enqueueWakesThisNodesWorkers() throws Exception {
        int[] woken = {0};
        store.onReady(() -> woken[0]++);
        store.enqueue(call("fn", "a", POLICY));
        assertEquals(1, woken[0]);
        store.enqueue(NewItem.call(500, "fn", new byte[0], null, null, "k", "api", POLICY));
        store.enqueue(NewItem.call(501, "fn", new byte[0], null, null, "k", "api", POLICY));
        assertEquals(2, woken[0], "a repeated key adds no work");
    }
}
