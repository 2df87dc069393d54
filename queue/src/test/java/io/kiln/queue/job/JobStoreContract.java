package io.kiln.queue.job;

import io.kiln.queue.Failure;
import io.kiln.queue.QueueItem;
import io.kiln.queue.QueueStore;
import io.kiln.queue.RetryPolicy;
import io.kiln.queue.db.Database;
import io.kiln.queue.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batch jobs on the queue, the same on both stores. The test is the worker: it claims the
 * job's items and records their ends with {@link JobStore#ended} in the same transaction, as
 * the gateway's queue worker does. Time is a {@link MutableClock}.
 */
abstract class JobStoreContract {

    static final Instant T0 = Instant.parse("2026-11-30T12:00:00Z");
    static final Duration LEASE = Duration.ofSeconds(30);
    static final String OWNER = "worker-1";
    static final RetryPolicy NO_RETRIES = new RetryPolicy(0, Duration.ofSeconds(1), Duration.ofSeconds(1),
            Duration.ZERO);

    final MutableClock clock = new MutableClock(T0);
    final AtomicLong ids = new AtomicLong(1000);
    Database db;
    QueueStore queue;
    JobStore jobs;
    long nextJob = 1;

    abstract String freshUrl() throws Exception;

    @BeforeEach
    void open() throws Exception {
        db = Database.open(freshUrl(), 4);
        queue = new QueueStore(db, clock, "node-a", new RandomGenerator() {
            @Override
            public long nextLong() {
                return 0;
            }

            @Override
            public double nextDouble() {
                return 0.5;
            }
        });
        jobs = new JobStore(queue, ids::incrementAndGet);
    }

    @AfterEach
    void close() {
        db.close();
    }

    // ---- helpers -------------------------------------------------------------------------

    NewJob job(int records, int perCall, int concurrency, Tolerance tolerance) {
        List<byte[]> groups = new ArrayList<>();
        for (int from = 0; from < records; from += perCall) {
            StringBuilder b = new StringBuilder(perCall > 1 ? "[" : "");
            for (int i = from; i < Math.min(records, from + perCall); i++) {
                b.append(i > from ? "," : "").append("\"r").append(i).append('"');
            }
            groups.add(b.append(perCall > 1 ? "]" : "").toString().getBytes(StandardCharsets.UTF_8));
        }
        return new NewJob(nextJob++, "fn", perCall, concurrency, tolerance, NO_RETRIES, groups, records);
    }

    /** Claims every available item, in the order the groups were fed. */
    List<QueueItem> claimAll() throws SQLException {
        List<QueueItem> got = new ArrayList<>(queue.claim(OWNER, 100, LEASE));
        got.sort(Comparator.comparing(QueueItem::idempotencyKey));
        return got;
    }

    /** Claims the item of one group; the others claimed with it go back, their attempt uncounted. */
    QueueItem claimGroup(long jobId, long index) throws SQLException {
        QueueItem found = null;
        for (QueueItem i : queue.claim(OWNER, 100, LEASE)) {
            if (i.idempotencyKey().equals(JobStore.source(jobId) + ":" + index)) {
                found = i;
            } else {
                assertTrue(queue.release(i.id(), OWNER, Duration.ZERO));
            }
        }
        if (found == null) {
            throw new AssertionError("no item of group " + index + " was available");
        }
        return found;
    }

    void succeed(QueueItem i, String output) throws SQLException {
        db.transaction(c -> {
            assertTrue(queue.succeed(c, i.id(), OWNER, output.getBytes(StandardCharsets.UTF_8)));
            jobs.ended(c, queue.get(c, i.id()));
            return null;
        });
    }

    void failForGood(QueueItem i, String message) throws SQLException {
        db.transaction(c -> {
            QueueStore.Failed f = queue.fail(c, i.id(), OWNER, new Failure("function_error", message,
                    "java.lang.IllegalArgumentException", true));
            assertTrue(f.dead(), "no retries: dead at once");
            jobs.ended(c, queue.get(c, i.id()));
            return null;
        });
    }

    /** The input of the group an item runs, as text. */
    static String input(QueueItem i) {
        return new String(i.input(), StandardCharsets.UTF_8);
    }

    List<QueueItem> itemsOf(long jobId, QueueItem.State state) throws SQLException {
        return db.transaction(c -> {
            List<QueueItem> out = new ArrayList<>();
            try (var s = c.prepareStatement("SELECT id FROM queue_items WHERE source = ? AND state = ? ORDER BY"
                    + " idempotency_key")) {
                s.setString(1, JobStore.source(jobId));
                s.setString(2, state.sql());
                try (var r = s.executeQuery()) {
                    while (r.next()) {
                        out.add(queue.get(c, r.getLong(1)));
                    }
                }
            }
            return out;
        });
    }

    // ---- tests ---------------------------------------------------------------------------

    @Test
    void aJobKeepsAtMostItsConcurrencyQueuedAndEndsWhenEveryRecordHas() throws Exception {
        Job j = jobs.create(job(7, 1, 3, Tolerance.NONE));
        assertEquals(Job.State.RUNNING, j.state());
        assertEquals(7, j.total());
        assertEquals(3, j.queued());
        assertEquals(4, j.pending());
        List<QueueItem> first = claimAll();
        assertEquals(List.of("\"r0\"", "\"r1\"", "\"r2\""), first.stream().map(JobStoreContract::input).toList());
        assertEquals(List.of("job:0000000000000001:0", "job:0000000000000001:1", "job:0000000000000001:2"),
                first.stream().map(QueueItem::idempotencyKey).toList());
        assertEquals("job:0000000000000001", first.get(0).source());
        assertEquals("fn", first.get(0).function());

        // One ends: the next group (index 3) takes its place, and no more.
        clock.advance(Duration.ofSeconds(1));
        succeed(first.get(1), "out1");
        j = jobs.get(j.id());
        assertEquals(1, j.done());
        assertEquals(3, j.queued());
        assertEquals(3, j.pending());
        List<QueueItem> next = claimAll();
        assertEquals(List.of("\"r3\""), next.stream().map(JobStoreContract::input).toList());

        succeed(first.get(0), "out0");
        succeed(first.get(2), "out2");
        succeed(next.get(0), "out3");
        List<QueueItem> last = claimAll();
        assertEquals(List.of("\"r4\"", "\"r5\"", "\"r6\""), last.stream().map(JobStoreContract::input).toList());
        succeed(last.get(0), "out4");
        succeed(last.get(1), "out5");
        assertEquals(Job.State.RUNNING, jobs.get(j.id()).state());
        clock.advance(Duration.ofSeconds(2));
        succeed(last.get(2), "out6");
        j = jobs.get(j.id());
        assertEquals(Job.State.SUCCEEDED, j.state());
        assertEquals(7, j.done());
        assertEquals(0, j.failed());
        assertEquals(0, j.queued());
        assertEquals(0, j.pending());
        assertEquals(0, j.duplicates());
        assertNull(j.stopReason());
        assertEquals(T0.plusSeconds(3), j.finishedAt());
        List<JobGroup> results = jobs.groups(j.id(), "succeeded", -1, 100);
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L), results.stream().map(JobGroup::index).toList());
        for (JobGroup g : results) {
            assertEquals("\"r" + g.index() + "\"", new String(g.input(), StandardCharsets.UTF_8));
            assertEquals("out" + g.index(), new String(g.output(), StandardCharsets.UTF_8));
            assertEquals(1, g.attempts());
        }
        // Paged: after index 4, two left.
        assertEquals(List.of(5L, 6L), jobs.groups(j.id(), "succeeded", 4, 100).stream().map(JobGroup::index)
                .toList());
        assertEquals(7, jobs.endedSince(j.id(), T0));
        assertEquals(1, jobs.endedSince(j.id(), T0.plusSeconds(3)));
    }

    @Test
    void recordsAreGroupedPerCallAndCountedAsRecords() throws Exception {
        Job j = jobs.create(job(5, 2, 10, Tolerance.NONE));
        assertEquals(3, j.groups());
        assertEquals(5, j.queued());
        List<QueueItem> items = claimAll();
        assertEquals(List.of("[\"r0\",\"r1\"]", "[\"r2\",\"r3\"]", "[\"r4\"]"),
                items.stream().map(JobStoreContract::input).toList());
        succeed(items.get(2), "[4]");
        j = jobs.get(j.id());
        assertEquals(1, j.done());
        assertEquals(4, j.queued());
        JobGroup last = jobs.groups(j.id(), "succeeded", -1, 10).get(0);
        assertEquals(2, last.index());
        assertEquals(4, last.firstRecord());
        assertEquals(1, last.records());
    }

    @Test
    void exceedingAFailureCountStopsTheJobAndCancelsWhatHasNotStarted() throws Exception {
        Job j = jobs.create(job(6, 1, 2, Tolerance.failures(1)));
        QueueItem r0 = claimGroup(j.id(), 0);
        QueueItem r1 = itemsOf(j.id(), QueueItem.State.AVAILABLE).get(0);
        failForGood(r0, "bad record 0");
        j = jobs.get(j.id());
        assertEquals(Job.State.RUNNING, j.state(), "one failure is tolerated");
        assertEquals(1, j.failed());
        // r1 and the group fed in r0's place (r2) are queued; r1 starts running.
        QueueItem running = claimGroup(j.id(), 1);
        assertEquals(r1.id(), running.id());
        QueueItem r2 = itemsOf(j.id(), QueueItem.State.AVAILABLE).get(0);
        assertEquals("\"r2\"", input(r2));
        clock.advance(Duration.ofSeconds(5));
        // r2 has not started; r1, running, fails: 2 > 1 tolerated.
        failForGood(running, "bad record 1");
        j = jobs.get(j.id());
        assertEquals(Job.State.FAILED, j.state());
        assertEquals("stopped: 2 records failed, more than the 1 tolerated", j.stopReason());
        assertEquals(T0.plusSeconds(5), j.finishedAt());
        assertEquals(2, j.failed());
        assertEquals(4, j.cancelled(), "r2 (queued, not started) and r3..r5 (never fed)");
        assertEquals(0, j.queued());
        assertEquals(0, j.pending());
        assertTrue(j.settled());
        assertEquals(QueueItem.State.CANCELLED, queue.get(r2.id()).state());
        assertTrue(queue.claim(OWNER, 100, LEASE).isEmpty(), "nothing more is fed");
        List<JobGroup> failures = jobs.groups(j.id(), "failed", -1, 10);
        assertEquals(List.of(0L, 1L), failures.stream().map(JobGroup::index).toList());
        assertEquals("function_error", failures.get(1).errorCode());
        assertEquals("bad record 1 (retries are off)", failures.get(1).errorMessage());
        assertEquals("java.lang.IllegalArgumentException", failures.get(1).errorType());
        assertEquals(1, failures.get(1).attempts());
    }

    @Test
    void aCallRunningWhenTheJobStopsEndsAndIsCountedButFeedsNothing() throws Exception {
        Job j = jobs.create(job(4, 1, 2, Tolerance.NONE));
        List<QueueItem> both = claimAll();
        failForGood(both.get(0), "bad");
        j = jobs.get(j.id());
        assertEquals(Job.State.FAILED, j.state());
        assertEquals("stopped: 1 record failed, more than the 0 tolerated", j.stopReason());
        assertEquals(1, j.queued(), "r1 was running: it goes on");
        assertFalse(j.settled());
        succeed(both.get(1), "ok");
        j = jobs.get(j.id());
        assertEquals(Job.State.FAILED, j.state());
        assertEquals(1, j.done());
        assertEquals(0, j.queued());
        assertEquals(2, j.cancelled());
        assertTrue(j.settled());
        assertTrue(queue.claim(OWNER, 100, LEASE).isEmpty());
    }

    @Test
    void aFailurePercentageCountsAgainstAllRecords() throws Exception {
        Job j = jobs.create(job(10, 1, 10, Tolerance.percent(20)));
        List<QueueItem> items = claimAll();
        failForGood(items.get(0), "x");
        failForGood(items.get(1), "x");
        assertEquals(Job.State.RUNNING, jobs.get(j.id()).state(), "2 of 10 is 20%: tolerated");
        failForGood(items.get(2), "x");
        j = jobs.get(j.id());
        assertEquals(Job.State.FAILED, j.state());
        assertEquals("stopped: 3 of 10 records failed (30%), more than the 20% tolerated", j.stopReason());
        assertEquals(0, j.cancelled(), "all ten were running");
        assertEquals(7, j.queued());
    }

    @Test
    void cancelStopsARunningJobOnce() throws Exception {
        Job j = jobs.create(job(5, 1, 2, Tolerance.NONE));
        QueueItem r0 = claimGroup(j.id(), 0);
        clock.advance(Duration.ofSeconds(7));
        assertTrue(jobs.cancel(j.id()));
        j = jobs.get(j.id());
        assertEquals(Job.State.CANCELLED, j.state());
        assertEquals("cancelled by user", j.stopReason());
        assertEquals(T0.plusSeconds(7), j.finishedAt());
        assertEquals(4, j.cancelled());
        assertEquals(1, j.queued());
        assertEquals(List.of(), itemsOf(j.id(), QueueItem.State.AVAILABLE));
        assertEquals(1, itemsOf(j.id(), QueueItem.State.CANCELLED).size());
        assertFalse(jobs.cancel(j.id()), "already stopped");
        assertFalse(jobs.cancel(424242), "unknown");
        succeed(r0, "late");
        j = jobs.get(j.id());
        assertEquals(1, j.done());
        assertEquals(Job.State.CANCELLED, j.state());
        assertTrue(j.settled());
    }

    @Test
    void redriveFeedsFailedAndUnrunRecordsAgainWithFreshKeys() throws Exception {
        Job j = jobs.create(job(4, 1, 1, Tolerance.NONE));
        QueueItem r0 = claimGroup(j.id(), 0);
        failForGood(r0, "broken");
        j = jobs.get(j.id());
        assertEquals(Job.State.FAILED, j.state());
        assertEquals(1, j.failed());
        assertEquals(3, j.cancelled());

        clock.advance(Duration.ofSeconds(1));
        assertEquals(4, jobs.redrive(j.id()));
        j = jobs.get(j.id());
        assertEquals(Job.State.RUNNING, j.state());
        assertNull(j.stopReason());
        assertNull(j.finishedAt());
        assertEquals(0, j.failed());
        assertEquals(0, j.cancelled());
        assertEquals(1, j.queued());
        assertEquals(3, j.pending());
        QueueItem again = claimAll().get(0);
        assertEquals("\"r0\"", input(again));
        assertEquals(JobStore.source(j.id()) + ":0:1", again.idempotencyKey(), "the second feeding has its own key");
        succeed(again, "fixed0");
        for (int k = 1; k < 4; k++) {
            QueueItem i = claimAll().get(0);
            succeed(i, "fixed" + k);
        }
        j = jobs.get(j.id());
        assertEquals(Job.State.SUCCEEDED, j.state());
        assertEquals(4, j.done());
        assertEquals(List.of(), jobs.groups(j.id(), "failed", -1, 10));
        assertEquals("fixed0", new String(jobs.groups(j.id(), "succeeded", -1, 10).get(0).output(),
                StandardCharsets.UTF_8));
        assertEquals(0, jobs.redrive(j.id()), "nothing failed: nothing to redrive");
        assertEquals(Job.State.SUCCEEDED, jobs.get(j.id()).state());
    }

    @Test
    void aCallInterruptedByItsNodesDeathAndRunAgainCountsAsADuplicate() throws Exception {
        NewJob n = job(2, 1, 2, Tolerance.NONE);
        RetryPolicy retries = new RetryPolicy(2, Duration.ofMillis(1), Duration.ofMillis(1), Duration.ZERO);
        Job j = jobs.create(new NewJob(n.id(), n.function(), 1, 2, Tolerance.NONE, retries, n.groups(), 2));
        List<QueueItem> first = claimAll();
        assertEquals(2, first.size());
        // The node dies while both run; its next process rescues them.
        assertEquals(2, queue.rescueOwnPrevious("worker-2"));
        clock.advance(Duration.ofSeconds(1));
        List<QueueItem> again = claimAll();
        assertEquals(2, again.size());
        succeed(again.get(0), "a");
        succeed(again.get(1), "b");
        j = jobs.get(j.id());
        assertEquals(Job.State.SUCCEEDED, j.state());
        assertEquals(2, j.done(), "each record is done once");
        assertEquals(2, j.duplicates(), "and each may have run twice");
    }

    @Test
    void anEndNoListenerSawIsRecordedByTheReconciler() throws Exception {
        Job j = jobs.create(job(2, 1, 1, Tolerance.failures(5)));
        QueueItem r0 = claimGroup(j.id(), 0);
        // Retries are 0: the reaper dead-letters it, and no listener is told.
        assertEquals(1, queue.rescueOwnPrevious("worker-2"));
        assertEquals(QueueItem.State.DEAD, queue.get(r0.id()).state());
        assertEquals(0, jobs.get(j.id()).failed());
        assertEquals(1, jobs.reconcile());
        j = jobs.get(j.id());
        assertEquals(1, j.failed());
        assertEquals(1, j.duplicates(), "it was interrupted: it may have run");
        assertEquals(1, j.queued(), "the next group was fed");
        assertEquals("interrupted", jobs.groups(j.id(), "failed", -1, 10).get(0).errorCode());
        assertEquals(0, jobs.reconcile(), "once");
        succeed(claimAll().get(0), "ok");
        assertEquals(Job.State.SUCCEEDED, jobs.get(j.id()).state());
    }

    @Test
    void anItemThatEndsAgainForAnEndedGroupIsADuplicate() throws Exception {
        Job j = jobs.create(job(1, 1, 1, Tolerance.failures(1)));
        QueueItem r0 = claimAll().get(0);
        failForGood(r0, "x");
        assertEquals(Job.State.SUCCEEDED, jobs.get(j.id()).state(), "within tolerance");
        // Its dead letter is re-driven through the function's dead letters, not the job.
        assertEquals(1, queue.redrive("fn", List.of(r0.id())));
        succeed(claimAll().get(0), "late");
        j = jobs.get(j.id());
        assertEquals(0, j.done());
        assertEquals(1, j.failed());
        assertEquals(1, j.duplicates());
    }

    @Test
    void tenThousandRecordsAreStoredInOneTransaction() throws Exception {
        long t = System.nanoTime();
        Job j = jobs.create(job(10_000, 1, 10, Tolerance.NONE));
        long ms = (System.nanoTime() - t) / 1_000_000;
        System.out.println("[test] 10,000 records stored in " + ms + " ms");
        assertTrue(ms < 20_000, "batched inserts take well under a second here; took " + ms + " ms");
        assertEquals(10_000, j.total());
        assertEquals(10_000, j.groups());
        assertEquals(10, j.queued());
        assertEquals(10, claimAll().size());
    }

    @Test
    void endedJobsAreSweptAfterTheirRetentionAndRunningOnesNever() throws Exception {
        Job running = jobs.create(job(2, 1, 1, Tolerance.NONE));
        Job stopping = jobs.create(job(2, 1, 2, Tolerance.NONE));
        Job done = jobs.create(job(1, 1, 1, Tolerance.NONE));
        for (QueueItem i : claimAll()) {
            if (i.source().equals(JobStore.source(done.id()))) {
                succeed(i, "ok");
            } else if (i.idempotencyKey().equals(JobStore.source(stopping.id()) + ":1")) {
                // stays running: the job is cancelled around it
            } else {
                assertTrue(queue.release(i.id(), OWNER, Duration.ZERO));
            }
        }
        assertTrue(jobs.cancel(stopping.id()));
        assertEquals(Job.State.SUCCEEDED, jobs.get(done.id()).state());
        assertEquals(0, jobs.sweep(T0), "nothing ended before the start");
        clock.advance(Duration.ofDays(8));
        assertEquals(1, jobs.sweep(T0.plus(Duration.ofDays(7))), "only the ended job with nothing running");
        assertNull(jobs.get(done.id()));
        assertEquals(List.of(), jobs.groups(done.id(), "succeeded", -1, 10));
        assertEquals(Job.State.RUNNING, jobs.get(running.id()).state());
        assertEquals(1, jobs.get(stopping.id()).queued(), "its last call still runs");
    }

    @Test
    void statsSumTheRunningJobsRecords() throws Exception {
        assertEquals(new JobStore.Stats(0, 0, 0, 0, 0), jobs.stats());
        Job a = jobs.create(job(5, 1, 2, Tolerance.failures(3)));
        jobs.create(job(3, 1, 1, Tolerance.NONE));
        Job ended = jobs.create(job(1, 1, 1, Tolerance.NONE));
        assertTrue(jobs.cancel(ended.id()));
        List<QueueItem> items = claimAll();
        succeed(items.get(0), "x");
        failForGood(items.get(1), "y");
        JobStore.Stats s = jobs.stats();
        assertEquals(new JobStore.Stats(2, 8, 1, 1, 3), s, "the cancelled job is not running");
        assertEquals(3, s.pending());
        assertEquals(Job.State.RUNNING, jobs.get(a.id()).state());
    }
}
