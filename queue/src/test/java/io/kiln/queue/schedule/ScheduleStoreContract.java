package io.kiln.queue.schedule;

import io.kiln.queue.QueueItem;
import io.kiln.queue.QueueStore;
import io.kiln.queue.RetryPolicy;
import io.kiln.queue.db.Database;
import io.kiln.queue.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Schedules in the store, the same on both stores: each subclass gives an empty store. Time is
 * a {@link MutableClock} the tests move; nothing sleeps. "Nodes" are ScheduleStores over their
 * own connections to one database, as two gateways would be.
 */
abstract class ScheduleStoreContract {

    static final Instant T0 = Instant.parse("2026-11-30T12:00:00Z");
    static final RetryPolicy POLICY = new RetryPolicy(2, Duration.ofSeconds(1), Duration.ofSeconds(10),
            Duration.ZERO);

    final MutableClock clock = new MutableClock(T0);
    final AtomicLong ids = new AtomicLong(1000);
    final List<Database> open = new ArrayList<>();
    String url;
    Database db;
    QueueStore queue;
    ScheduleStore store;

    abstract String freshUrl() throws Exception;

    @BeforeEach
    void open() throws Exception {
        url = freshUrl();
        db = Database.open(url, 4);
        open.add(db);
        queue = new QueueStore(db, clock, "node-a", new Random(1));
        store = schedules(queue);
    }

    @AfterEach
    void close() {
        open.forEach(Database::close);
    }

    /** A store whose only deployed function is "echo". */
    ScheduleStore schedules(QueueStore q) {
        return new ScheduleStore(q, f -> f.equals("echo") ? Optional.of(POLICY) : Optional.empty(),
                ids::incrementAndGet);
    }

    /** Another node: its own connections to the same database. */
    ScheduleStore otherNode(String node) throws SQLException {
        Database other = Database.open(url, 4);
        open.add(other);
        return schedules(new QueueStore(other, clock, node, new Random(2)));
    }

    static ScheduleDefinition def(String name, String kind, String value, String zone, OverlapPolicy overlap,
                                  MisfirePolicy misfire) {
        return new ScheduleDefinition(name, "echo", kind, value, zone, overlap, misfire,
                "tick".getBytes(StandardCharsets.UTF_8), Shape.PLAIN, true);
    }

    static ScheduleDefinition rate(String name, String every, OverlapPolicy overlap) {
        return def(name, "rate", every, null, overlap, MisfirePolicy.FIRE_ONCE);
    }

    static Instant t(String iso) {
        return Instant.parse(iso);
    }

    /** How many queue items the schedule has enqueued, read from the queue's own table. */
    long items(String name) throws SQLException {
        return db.transaction(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM queue_items WHERE source = ?")) {
                p.setString(1, "schedule:" + name);
                try (ResultSet r = p.executeQuery()) {
                    r.next();
                    return r.getLong(1);
                }
            }
        });
    }

    static List<Instant> fireTimes(List<Firing> firings) {
        return firings.stream().map(Firing::fireTime).toList();
    }

    // ---- exactly once ------------------------------------------------------------------------

    @Test
    void twoNodesFireEachFireTimeOnce() throws Exception {
        ScheduleStore b = otherNode("node-b");
        store.put(rate("every-minute", "1m", OverlapPolicy.ALLOW));
        clock.advance(Duration.ofMinutes(1));
        List<Firing> a1 = store.fireDue();
        assertEquals(List.of(T0.plusSeconds(60)), fireTimes(a1));
        assertEquals("node-a", a1.get(0).node());
        assertEquals(List.of(), b.fireDue(), "node b finds the fire time handled");
        clock.advance(Duration.ofMinutes(1));
        List<Firing> b2 = b.fireDue();
        assertEquals(List.of(T0.plusSeconds(120)), fireTimes(b2));
        assertEquals("node-b", b2.get(0).node());
        assertEquals(List.of(), store.fireDue());
        assertEquals(2, items("every-minute"));
        assertEquals(List.of(T0.plusSeconds(120), T0.plusSeconds(60)),
                fireTimes(store.firings("every-minute", 10)));
    }

    @Test
    void aFireTimeAlreadyRecordedIsNeverEnqueuedAgainEvenIfTheScheduleSaysItIsDue() throws Exception {
        store.put(rate("r", "1m", OverlapPolicy.ALLOW));
        clock.advance(Duration.ofMinutes(1));
        Firing first = store.fireDue().get(0);
        // A node that still believes the fire time is due (a stale copy of the schedule's row,
        // a clock behind): only the unique fire time stands between it and a second call.
        db.transaction(c -> {
            try (PreparedStatement p = c.prepareStatement(
                    "UPDATE schedules SET last_scheduled = ?, next_fire_at = ? WHERE name = 'r'")) {
                p.setLong(1, T0.toEpochMilli());
                p.setLong(2, T0.plusSeconds(60).toEpochMilli());
                return p.executeUpdate();
            }
        });
        assertEquals(List.of(), store.fireDue());
        assertEquals(1, items("r"));
        List<Firing> history = store.firings("r", 10);
        assertEquals(1, history.size());
        assertEquals(first.callId(), history.get(0).callId());
        assertEquals(T0.plusSeconds(120), store.get("r").orElseThrow().nextFireAt(), "it still advanced");
    }

    @Test
    void aRestartFiresNoFireTimeTwice() throws Exception {
        store.put(rate("r", "1m", OverlapPolicy.ALLOW));
        clock.advance(Duration.ofMinutes(1));
        assertEquals(1, store.fireDue().size());
        db.close();
        open.remove(db);
        db = Database.open(url, 4);
        open.add(db);
        queue = new QueueStore(db, clock, "node-a", new Random(3));
        store = schedules(queue);
        assertEquals(List.of(), store.fireDue(), "the same moment after the restart: nothing new");
        clock.advance(Duration.ofSeconds(59));
        assertEquals(List.of(), store.fireDue());
        clock.advance(Duration.ofSeconds(1));
        assertEquals(List.of(T0.plusSeconds(120)), fireTimes(store.fireDue()));
        assertEquals(2, items("r"));
    }

    // ---- what a firing enqueues -----------------------------------------------------------------

    @Test
    void aFiringEnqueuesACallOfTheFunctionWithItsInputAndRetryPolicy() throws Exception {
        store.put(rate("r", "30s", OverlapPolicy.SKIP));
        assertEquals(T0.plusSeconds(30), store.get("r").orElseThrow().nextFireAt());
        assertEquals(Optional.of(T0.plusSeconds(30)), store.nextFireAt());
        clock.advance(Duration.ofSeconds(30));
        Firing f = store.fireDue().get(0);
        assertEquals(Firing.Outcome.ENQUEUED, f.outcome());
        assertNull(f.reason());
        QueueItem item = queue.get(f.callId());
        assertEquals("echo", item.function());
        assertEquals("tick", new String(item.input(), StandardCharsets.UTF_8));
        assertEquals("schedule:r", item.source());
        assertEquals(POLICY, item.policy());
        assertEquals(QueueItem.State.AVAILABLE, item.state());
        assertNull(item.httpHead());
        Firing listed = store.firings("r", 1).get(0);
        assertEquals(QueueItem.State.AVAILABLE, listed.callState());
        assertEquals(T0.plusSeconds(30), listed.firedAt());
    }

    @Test
    void anEventBridgeShapedFiringDeliversAScheduledEventForItsFireTime() throws Exception {
        store.put(new ScheduleDefinition("nightly", "echo", "cron", "0 3 * * *", "Europe/Berlin",
                OverlapPolicy.ALLOW, MisfirePolicy.FIRE_ONCE, new byte[0], Shape.EVENTBRIDGE, true));
        clock.set(t("2026-12-01T02:00:00Z")); // 03:00 CET
        Firing f = store.fireDue().get(0);
        String json = new String(queue.get(f.callId()).input(), StandardCharsets.UTF_8);
        String id = json.substring(json.indexOf("\"id\":\"") + 6, json.indexOf("\",\"detail-type\""));
        assertEquals(36, id.length());
        assertEquals("{\"version\":\"0\",\"id\":\"" + id + "\",\"detail-type\":\"Scheduled Event\","
                + "\"source\":\"aws.events\",\"account\":\"000000000000\",\"time\":\"2026-12-01T02:00:00Z\","
                + "\"region\":\"kiln\",\"resources\":[\"kiln:schedule/nightly\"],\"detail\":{}}", json);
    }

    @Test
    void aFunctionThatIsNotDeployedIsRecordedAsSkipped() throws Exception {
        store.put(new ScheduleDefinition("orphan", "gone", "rate", "1m", null, OverlapPolicy.ALLOW,
                MisfirePolicy.FIRE_ONCE, new byte[0], Shape.PLAIN, true));
        clock.advance(Duration.ofMinutes(1));
        Firing f = store.fireDue().get(0);
        assertEquals(Firing.Outcome.SKIPPED, f.outcome());
        assertEquals("function gone is not deployed", f.reason());
        assertEquals(0, items("orphan"));
    }

    @Test
    void aOneTimeScheduleInTheFutureFiresOnceAndThenNever() throws Exception {
        store.put(def("once", "at", "2026-11-30T14:00:00+01:00", null, OverlapPolicy.ALLOW,
                MisfirePolicy.FIRE_ONCE));
        clock.set(t("2026-11-30T13:00:00Z"));
        assertEquals(List.of(t("2026-11-30T13:00:00Z")), fireTimes(store.fireDue()));
        assertNull(store.get("once").orElseThrow().nextFireAt());
        assertEquals(Optional.empty(), store.nextFireAt());
        clock.advance(Duration.ofDays(400));
        assertEquals(List.of(), store.fireDue());
        assertEquals(1, items("once"));
    }

    // ---- overlap -----------------------------------------------------------------------------

    @Test
    void overlapSkipRecordsTheFiringAsSkippedWhileTheLastRunIsQueuedOrRunning() throws Exception {
        store.put(rate("r", "1m", OverlapPolicy.SKIP));
        clock.advance(Duration.ofMinutes(1));
        long call = store.fireDue().get(0).callId();
        String callHex = String.format("%016x", call);

        clock.advance(Duration.ofMinutes(1));
        Firing queued = store.fireDue().get(0);
        assertEquals(Firing.Outcome.SKIPPED, queued.outcome());
        assertNull(queued.callId());
        assertEquals("the previous run (call " + callHex + ") is still queued; overlap policy skip", queued.reason());

        assertEquals(call, queue.claim("w", 10, Duration.ofMinutes(10)).get(0).id());
        clock.advance(Duration.ofMinutes(1));
        Firing running = store.fireDue().get(0);
        assertEquals(Firing.Outcome.SKIPPED, running.outcome());
        assertEquals("the previous run (call " + callHex + ") is still running; overlap policy skip",
                running.reason());

        assertTrue(queue.succeed(call, "w", new byte[0]));
        clock.advance(Duration.ofMinutes(1));
        Firing next = store.fireDue().get(0);
        assertEquals(Firing.Outcome.ENQUEUED, next.outcome());
        assertEquals(T0.plusSeconds(240), next.fireTime());
        assertEquals(2, items("r"));
        List<Firing> history = store.firings("r", 10);
        assertEquals(List.of(Firing.Outcome.ENQUEUED, Firing.Outcome.SKIPPED, Firing.Outcome.SKIPPED,
                Firing.Outcome.ENQUEUED), history.stream().map(Firing::outcome).toList());
        assertEquals(QueueItem.State.SUCCEEDED, history.get(3).callState());
    }

    @Test
    void overlapAllowEnqueuesWhileTheLastRunIsStillQueued() throws Exception {
        store.put(rate("r", "1m", OverlapPolicy.ALLOW));
        for (int i = 1; i <= 3; i++) {
            clock.advance(Duration.ofMinutes(1));
            assertEquals(Firing.Outcome.ENQUEUED, store.fireDue().get(0).outcome());
        }
        assertEquals(3, items("r"));
        assertEquals(3, queue.stats().available());
    }

    // ---- misfires ----------------------------------------------------------------------------

    @Test
    void misfireFireOnceFiresTheLatestMissedFireTimeOnceAfterDowntime() throws Exception {
        store.put(def("five", "cron", "*/5 * * * *", "UTC", OverlapPolicy.ALLOW, MisfirePolicy.FIRE_ONCE));
        clock.set(t("2026-11-30T12:33:00Z")); // down from 12:00 to 12:33
        List<Firing> fired = store.fireDue();
        assertEquals(1, fired.size());
        Firing f = fired.get(0);
        assertEquals(Firing.Outcome.ENQUEUED, f.outcome());
        assertEquals(t("2026-11-30T12:30:00Z"), f.fireTime());
        assertEquals("stands for the fire times from 2026-11-30T12:05:00Z to 2026-11-30T12:30:00Z, missed while no"
                + " node was firing; misfire policy fire-once", f.reason());
        assertEquals(t("2026-11-30T12:35:00Z"), store.get("five").orElseThrow().nextFireAt());
        assertEquals(List.of(), store.fireDue());
        assertEquals(1, items("five"));
    }

    @Test
    void misfireSkipFiresNoneOfTheMissedFireTimesAndWaitsForTheNext() throws Exception {
        store.put(def("five", "cron", "*/5 * * * *", "UTC", OverlapPolicy.ALLOW, MisfirePolicy.SKIP));
        clock.set(t("2026-11-30T12:33:00Z"));
        Firing missed = store.fireDue().get(0);
        assertEquals(Firing.Outcome.MISSED, missed.outcome());
        assertEquals(t("2026-11-30T12:30:00Z"), missed.fireTime());
        assertNull(missed.callId());
        assertEquals("missed the fire times from 2026-11-30T12:05:00Z to 2026-11-30T12:30:00Z while no node was"
                + " firing; misfire policy skip", missed.reason());
        assertEquals(0, items("five"));
        clock.set(t("2026-11-30T12:35:00Z"));
        Firing next = store.fireDue().get(0);
        assertEquals(Firing.Outcome.ENQUEUED, next.outcome());
        assertEquals(t("2026-11-30T12:35:00Z"), next.fireTime());
        assertEquals(1, items("five"));
    }

    @Test
    void misfireSkipStillFiresTheLatestWhenItIsOnTime() throws Exception {
        store.put(def("five", "cron", "*/5 * * * *", "UTC", OverlapPolicy.ALLOW, MisfirePolicy.SKIP));
        clock.set(t("2026-11-30T12:30:30Z"));
        Firing f = store.fireDue().get(0);
        assertEquals(Firing.Outcome.ENQUEUED, f.outcome());
        assertEquals(t("2026-11-30T12:30:00Z"), f.fireTime());
        assertEquals("the fire times from 2026-11-30T12:05:00Z before this one were missed while no node was firing"
                + " and are dropped; misfire policy skip", f.reason());
    }

    // ---- DST ---------------------------------------------------------------------------------

    /** Moves the clock from {@code from} to {@code to} in {@code step}s, calling fireDue at each. */
    List<Firing> drive(Instant from, Instant to, Duration step) throws SQLException {
        List<Firing> all = new ArrayList<>();
        for (Instant now = from; !now.isAfter(to); now = now.plus(step)) {
            clock.set(now);
            all.addAll(store.fireDue());
        }
        return all;
    }

    @Test
    void springForwardInBerlinFires0230OnceADayAtTheFirstInstantAfterTheGap() throws Exception {
        clock.set(t("2026-03-27T12:00:00Z"));
        store.put(def("berlin", "cron", "30 2 * * *", "Europe/Berlin", OverlapPolicy.ALLOW,
                MisfirePolicy.FIRE_ONCE));
        List<Firing> fired = drive(t("2026-03-27T12:00:00Z"), t("2026-03-31T00:00:00Z"), Duration.ofMinutes(10));
        assertEquals(List.of(
                t("2026-03-28T01:30:00Z"),  // 02:30 CET
                t("2026-03-29T01:00:00Z"),  // 02:30 does not exist: 03:00 CEST, the first instant after the gap
                t("2026-03-30T00:30:00Z")), // 02:30 CEST
                fireTimes(fired));
        assertTrue(fired.stream().allMatch(f -> f.outcome() == Firing.Outcome.ENQUEUED && f.reason() == null));
        assertEquals(3, items("berlin"));
    }

    @Test
    void fallBackInBerlinFires0230OnceADayAtItsFirstOccurrence() throws Exception {
        clock.set(t("2026-10-23T12:00:00Z"));
        store.put(def("berlin", "cron", "30 2 * * *", "Europe/Berlin", OverlapPolicy.ALLOW,
                MisfirePolicy.FIRE_ONCE));
        List<Firing> fired = drive(t("2026-10-23T12:00:00Z"), t("2026-10-27T00:00:00Z"), Duration.ofMinutes(10));
        assertEquals(List.of(
                t("2026-10-24T00:30:00Z"),  // 02:30 CEST
                t("2026-10-25T00:30:00Z"),  // 02:30 CEST, the first of the two 02:30s; not 01:30Z (02:30 CET)
                t("2026-10-26T01:30:00Z")), // 02:30 CET
                fireTimes(fired));
        assertEquals(3, items("berlin"));
    }

    // ---- definitions -------------------------------------------------------------------------

    @Test
    void aRepeatedPutKeepsTheProgressAndAChangedSpecStartsAfresh() throws Exception {
        ScheduleStore.Put created = store.put(rate("r", "1m", OverlapPolicy.SKIP));
        assertTrue(created.created());
        clock.advance(Duration.ofSeconds(90));
        store.fireDue();
        ScheduleStore.Put again = store.put(rate("r", "1m", OverlapPolicy.ALLOW));
        assertFalse(again.created());
        Schedule kept = store.get("r").orElseThrow();
        assertEquals(T0.plusSeconds(60), kept.lastScheduled());
        assertEquals(T0.plusSeconds(120), kept.nextFireAt());
        assertEquals(T0, kept.createdAt());
        assertEquals(T0.plusSeconds(90), kept.updatedAt());
        assertEquals(OverlapPolicy.ALLOW, kept.definition().overlap());
        assertEquals(List.of(), store.fireDue(), "the fire time handled before the put is not handled again");

        store.put(rate("r", "5m", OverlapPolicy.ALLOW));
        Schedule changed = store.get("r").orElseThrow();
        assertEquals(T0.plusSeconds(90), changed.lastScheduled());
        assertEquals(T0.plusSeconds(90 + 300), changed.nextFireAt());
        assertEquals(T0, changed.createdAt());
        assertEquals(1, store.firings("r", 10).size(), "its history stays");
    }

    @Test
    void aSpecTheParserRefusesIsRefusedWithItsMessageAndNothingIsStored() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> store.put(def("c", "cron", "0 9 * * *", null, OverlapPolicy.SKIP, MisfirePolicy.FIRE_ONCE)));
        assertEquals("zone: missing; a cron schedule needs an explicit IANA time zone such as Europe/Berlin or UTC;"
                + " none is ever implied", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> store.put(def("c", "weekly", "x", null, OverlapPolicy.SKIP, MisfirePolicy.FIRE_ONCE)));
        IllegalArgumentException name = assertThrows(IllegalArgumentException.class,
                () -> rate("no spaces", "1m", OverlapPolicy.SKIP));
        assertEquals("name: \"no spaces\" is not a schedule name; allowed: 1 to 64 letters, digits, '.', '_' or '-',"
                + " starting with a letter or digit", name.getMessage());
    }

    @Test
    void listGetAndDelete() throws Exception {
        store.put(rate("b", "1m", OverlapPolicy.SKIP));
        store.put(def("a", "cron", "0 9 * * MON-FRI", "America/New_York", OverlapPolicy.SKIP,
                MisfirePolicy.SKIP));
        assertEquals(List.of("a", "b"), store.list().stream().map(Schedule::name).toList());
        Schedule a = store.get("a").orElseThrow();
        assertEquals("cron \"0 9 * * MON-FRI\" in America/New_York", a.spec().describe());
        assertEquals(t("2026-11-30T14:00:00Z"), a.nextFireAt()); // Monday 09:00 EST
        assertArrayEquals("tick".getBytes(StandardCharsets.UTF_8), a.definition().input());
        clock.advance(Duration.ofMinutes(1));
        store.fireDue();
        assertEquals(1, store.firings("b", 10).size());
        assertTrue(store.delete("b"));
        assertFalse(store.delete("b"));
        assertEquals(Optional.empty(), store.get("b"));
        assertEquals(List.of(), store.firings("b", 10));
        store.put(rate("b", "1m", OverlapPolicy.SKIP));
        clock.advance(Duration.ofMinutes(1));
        assertEquals(1, store.fireDue().size(), "a new schedule of the same name fires afresh");
    }

    @Test
    void theSweeperDropsOldFiringsOnly() throws Exception {
        store.put(rate("r", "1m", OverlapPolicy.ALLOW));
        for (int i = 0; i < 3; i++) {
            clock.advance(Duration.ofMinutes(1));
            store.fireDue();
        }
        assertEquals(2, store.sweepFirings(T0.plusSeconds(180)));
        assertEquals(List.of(T0.plusSeconds(180)), fireTimes(store.firings("r", 10)));
        assertEquals(0, store.sweepFirings(T0.plusSeconds(180)));
    }

    @Test
    void aDisabledScheduleDoesNotFire() throws Exception {
        store.put(new ScheduleDefinition("off", "echo", "rate", "1m", null, OverlapPolicy.ALLOW,
                MisfirePolicy.FIRE_ONCE, new byte[0], Shape.PLAIN, false));
        clock.advance(Duration.ofMinutes(5));
        assertEquals(List.of(), store.fireDue());
        assertEquals(Optional.empty(), store.nextFireAt());
    }
}
