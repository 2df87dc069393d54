package io.kiln.invoker.call;

import io.kiln.invoker.instance.FunctionTemplate;
import io.kiln.invoker.pool.PoolKey;
import io.kiln.invoker.store.FunctionConfig;
import io.kiln.invoker.store.FunctionVersion;
import io.kiln.invoker.testing.FakeClock;
import io.kiln.invoker.testing.FakeEngine;
import io.kiln.invoker.testing.FakeInstance;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dispatcher's decisions, driven with a fake engine (instances that answer when the test
 * says), a fake clock and direct executors: every message runs on the test's thread, in order,
 * so each test is a deterministic script that runs in milliseconds, with no sleeps.
 */
class CallDispatcherTest {

    private static final String SHA = "0".repeat(64);
    private static final Duration QUEUE_TIMEOUT = Duration.ofSeconds(10);

    private final FakeClock clock = new FakeClock();
    private final FakeEngine engine = new FakeEngine();
    private final List<PoolKey> retired = new ArrayList<>();

    private CallDispatcher dispatcher(long budgetMib, int queueLimit) {
        return new CallDispatcher(budgetMib, engine, Runnable::run, Runnable::run, clock, queueLimit, QUEUE_TIMEOUT,
                CallDispatcher.Events.NONE, retired::add);
    }

    private static FunctionTemplate template(String name, long version, FunctionConfig config) {
        return new FunctionTemplate(new FunctionVersion(name, version, SHA, 1, config, Instant.EPOCH),
                Path.of("fake.jar"), null);
    }

    private static FunctionConfig fn(int memoryMib) {
        return FunctionConfig.of("com.example.Fake").withMemoryMib(memoryMib);
    }

    private static CompletableFuture<CallResult> submit(CallDispatcher d, String function, String input) {
        return d.submit(function, CallRequest.of(input.getBytes(StandardCharsets.UTF_8)));
    }

    private static String text(CompletableFuture<CallResult> f) {
        assertTrue(f.isDone(), "the call has an answer");
        return new String(f.join().body(), StandardCharsets.UTF_8);
    }

    private static CallException failure(CompletableFuture<CallResult> f) {
        assertTrue(f.isDone(), "the call has an answer");
        CompletionException e = assertThrows(CompletionException.class, f::join);
        return (CallException) e.getCause();
    }

    /** Calls {@code function} once and answers with {@code input}: its instance ends up idle, most recently used. */
    private FakeInstance callOnce(CallDispatcher d, String function) {
        CompletableFuture<CallResult> f = submit(d, function, "x");
        FakeInstance i = engine.busyOne(function);
        i.answer("ok");
        assertEquals("ok", text(f));
        return i;
    }

    // ---- admission -----------------------------------------------------------------------

    @Test
    void aCallStartsAnInstanceColdThenTheNextTakesItWarm() {
        CallDispatcher d = dispatcher(1024, 10);
        d.activate(template("f", 1, fn(256)), null, null);
        CompletableFuture<CallResult> first = submit(d, "f", "a");
        FakeInstance i = engine.busyOne("f");
        i.answer("A");
        assertEquals("A", text(first));
        assertTrue(first.join().timings().cold());
        CompletableFuture<CallResult> second = submit(d, "f", "b");
        assertSame(i, engine.busyOne("f"));
        i.answer("B");
        assertFalse(second.join().timings().cold());
        assertEquals(List.of("a", "b"), i.inputs());
        assertEquals(1, engine.started().size());
        CallDispatcher.FunctionState s = d.state("f");
        assertEquals(List.of(1, 0, 0, 1), List.of(s.live(), s.inFlight(), s.queued(), s.cachedIdle()));
    }

    @Test
    void anUnknownFunctionIsNotFound() {
        CallDispatcher d = dispatcher(1024, 10);
        assertEquals(CallException.Codes.NOT_FOUND, failure(submit(d, "nope", "x")).code());
    }

    @Test
    void callsBeyondConcurrencyWaitAndBeyondTheQueueLimitAreRefused() {
        CallDispatcher d = dispatcher(1024, 2);
        d.activate(template("one", 1, fn(256).withMaxConcurrency(1)), null, null);
        CompletableFuture<CallResult> running = submit(d, "one", "1");
        CompletableFuture<CallResult> w1 = submit(d, "one", "2");
        CompletableFuture<CallResult> w2 = submit(d, "one", "3");
        CallException refused = failure(submit(d, "one", "4"));
        assertEquals(CallException.Codes.QUEUE_FULL, refused.code());
        assertEquals(Duration.ofSeconds(1), refused.retryAfter());
        assertEquals(2, d.state("one").queued());
        FakeInstance i = engine.busyOne("one");
        i.answer("r1");
        assertEquals("r1", text(running));
        assertFalse(w1.isDone());
        i.answer("r2");
        i.answer("r3");
        assertEquals(List.of("r2", "r3"), List.of(text(w1), text(w2)));
        assertEquals(List.of("1", "2", "3"), i.inputs(), "one instance, in order");
    }

    @Test
    void aCallThatMayNotWaitIsRefusedAtCapacityAndOneThatCanStartRuns() {
        CallDispatcher d = dispatcher(512, 10);
        d.activate(template("one", 1, fn(256).withMaxConcurrency(1)), null, null);
        d.activate(template("two", 1, fn(256)), null, null);
        CompletableFuture<CallResult> running = d.submit("one", CallRequest.of(new byte[]{'1'}), IfBusy.REFUSE);
        FakeInstance i = engine.busyOne("one");
        CallException refused = failure(d.submit("one", CallRequest.of(new byte[]{'2'}), IfBusy.REFUSE));
        assertEquals(CallException.Codes.AT_CAPACITY, refused.code());
        assertEquals(0, d.state("one").queued(), "a refused call leaves no trace in the queue");
        // "two" fits in the budget's other 256 MiB: it starts cold rather than being refused.
        CompletableFuture<CallResult> other = d.submit("two", CallRequest.of(new byte[]{'3'}), IfBusy.REFUSE);
        engine.busyOne("two").answer("t");
        assertEquals("t", text(other));
        // With the budget full (one busy, two idle), a third function has to wait for memory:
        // refused, and nothing is evicted for a call that goes elsewhere.
        d.activate(template("three", 1, fn(256)), null, null);
        CallException noRoom = failure(d.submit("three", CallRequest.of(new byte[]{'4'}), IfBusy.REFUSE));
        assertEquals(CallException.Codes.AT_CAPACITY, noRoom.code());
        assertEquals(1, d.state("two").cachedIdle(), "two's idle instance is still there");
        assertEquals(0, d.state("three").live());
        i.answer("r1");
        assertEquals("r1", text(running));
        assertEquals(List.of("1"), i.inputs());
    }

    @Test
    void aCallWaitingPastTheQueueTimeoutIsRefusedAndADispatchedOneIsNot() {
        CallDispatcher d = dispatcher(1024, 10);
        d.activate(template("one", 1, fn(256).withMaxConcurrency(1)), null, null);
        CompletableFuture<CallResult> running = submit(d, "one", "1");
        clock.advance(Duration.ofSeconds(5));
        CompletableFuture<CallResult> waiting = submit(d, "one", "2");
        clock.advance(QUEUE_TIMEOUT.minusNanos(1));
        assertFalse(waiting.isDone());
        assertFalse(running.isDone(), "a call in flight has no queue timeout");
        clock.advance(Duration.ofNanos(1));
        CallException e = failure(waiting);
        assertEquals(CallException.Codes.QUEUE_TIMEOUT, e.code());
        assertEquals(0, d.state("one").queued());
        engine.busyOne("one").answer("late but fine");
        assertEquals("late but fine", text(running));
        assertEquals(0, clock.pending() - timersOfIdle(d), "no queue timer left armed");
    }

    /** The keep-alive timers of idle instances (one per idle instance here). */
    private static int timersOfIdle(CallDispatcher d) {
        return d.poolState().liveInstances();
    }

    @Test
    void waitingFunctionsAreServedRoundRobinSoAHotOneCannotStarveAnother() {
        // Room for two instances in all; "hot" has six calls, "cold" one, queued behind them.
        CallDispatcher d = dispatcher(512, 100);
        d.activate(template("hot", 1, fn(256)), null, null);
        d.activate(template("cold", 1, fn(256)), null, null);
        List<CompletableFuture<CallResult>> hot = new ArrayList<>();
        for (int n = 0; n < 6; n++) {
            hot.add(submit(d, "hot", "h" + n));
        }
        CompletableFuture<CallResult> cold = submit(d, "cold", "c");
        assertEquals(2, engine.of("hot").size(), "the budget is full");
        assertEquals(4, d.state("hot").queued());
        // Answer hot calls one at a time; "cold" must get an instance long before hot's queue is empty.
        int answered = 0;
        while (engine.of("cold").isEmpty() || !engine.of("cold").get(0).busy()) {
            assertTrue(answered < 3, "cold still waits after " + answered + " hot calls ended: " + d.describePool());
            FakeInstance busy = engine.of("hot").stream().filter(FakeInstance::busy).findFirst().orElseThrow();
            busy.answer("h");
            answered++;
        }
        assertTrue(d.state("hot").queued() >= 2, "cold was served while hot still had calls waiting");
        engine.of("cold").get(0).answer("C");
        assertEquals("C", text(cold));
    }

    // ---- eviction and keep-alive ---------------------------------------------------------

    @Test
    void evictionTakesTheLeastRecentlyUsedIdleInstanceFirst() {
        CallDispatcher d = dispatcher(768, 10);
        for (String f : List.of("a", "b", "c", "d")) {
            d.activate(template(f, 1, fn(256)), null, null);
        }
        FakeInstance b = callOnce(d, "b");
        FakeInstance a = callOnce(d, "a");
        FakeInstance c = callOnce(d, "c");
        callOnce(d, "b"); // b is now the most recently used; a the least
        assertEquals(0, d.poolState().reservedMib());
        assertEquals(768, d.poolState().idleMib());

        CompletableFuture<CallResult> first = submit(d, "d", "1");
        assertTrue(a.isGone() && !b.destroyed() && !c.destroyed(), d.describePool());
        engine.busyOne("d").answer("d1");
        assertEquals("d1", text(first));
        // d's instance is now the most recently used idle one; a second d call in parallel needs c's room.
        FakeInstance d1 = engine.of("d").get(0);
        CompletableFuture<CallResult> second = submit(d, "d", "2");
        CompletableFuture<CallResult> third = submit(d, "d", "3");
        assertSame(d1, engine.of("d").stream().filter(i -> i.inputs().contains("2")).findFirst().orElseThrow());
        assertTrue(c.isGone() && !b.destroyed(), "c was used before b: " + d.describePool());
        assertEquals(2, engine.of("d").size());
        for (FakeInstance i : engine.of("d")) {
            i.answer("y");
        }
        assertTrue(second.isDone() && third.isDone());
    }

    @Test
    void aFunctionsMinimumIsPinnedAndNeverEvictedNorExpired() {
        CallDispatcher d = dispatcher(512, 10);
        d.activate(template("pinned", 1, fn(256).withMinInstances(1).withKeepAlive(Duration.ofSeconds(1))), null,
                null);
        d.activate(template("other", 1, fn(256)), null, null);
        d.activate(template("big", 1, fn(512)), null, null);
        FakeInstance p = engine.of("pinned").get(0);
        assertEquals(1, d.state("pinned").pinnedIdle());
        FakeInstance o = callOnce(d, "other");
        callOnce(d, "pinned"); // pinned's instance is now more recently used than other's, and still pinned
        // big needs the whole budget, but the pinned instance stays: evicting other's alone would
        // not make room, so nothing is evicted for nothing, and big waits.
        CompletableFuture<CallResult> big = submit(d, "big", "x");
        assertFalse(o.destroyed());
        assertFalse(p.destroyed());
        assertFalse(big.isDone());
        assertEquals(0, engine.of("big").size());
        clock.advance(Duration.ofDays(1));
        assertFalse(p.destroyed(), "a minimum never expires");
        assertEquals(CallException.Codes.QUEUE_TIMEOUT, failure(big).code());
    }

    @Test
    void keepAliveExpiryIsPerFunctionAndRestartsWithEachCall() {
        CallDispatcher d = dispatcher(1024, 10);
        d.activate(template("short", 1, fn(256).withKeepAlive(Duration.ofSeconds(10))), null, null);
        d.activate(template("long", 1, fn(256).withKeepAlive(Duration.ofMinutes(5))), null, null);
        FakeInstance s = callOnce(d, "short");
        FakeInstance l = callOnce(d, "long");
        clock.advance(Duration.ofSeconds(9));
        callOnce(d, "short"); // restarts its keep-alive
        clock.advance(Duration.ofSeconds(9));
        assertFalse(s.destroyed(), "18 s after the first call, 9 s after the last");
        clock.advance(Duration.ofSeconds(1));
        assertTrue(s.isGone());
        assertFalse(l.destroyed());
        clock.advance(Duration.ofMinutes(5));
        assertTrue(l.isGone());
        assertEquals(0, d.poolState().liveInstances());
        assertEquals(0, clock.pending(), "every timer fired or was cancelled");
    }

    @Test
    void aZeroKeepAliveDestroysTheInstanceAfterEachCallAndTheDeploysOwn() {
        CallDispatcher d = dispatcher(1024, 10);
        FunctionTemplate t = template("once", 1, fn(256).withKeepAlive(Duration.ZERO));
        FakeInstance deployed = engine.deployInstance(t);
        d.activate(t, null, deployed);
        assertTrue(deployed.isGone());
        FakeInstance i = callOnce(d, "once");
        assertNotSame(deployed, i);
        assertTrue(i.isGone());
        assertEquals(0, d.poolState().liveInstances());
    }

    @Test
    void minimumInstancesStartInTheBackgroundAndAFailedOneIsRetriedLater() {
        CallDispatcher d = dispatcher(1024, 10);
        engine.failNextStarts(1);
        d.activate(template("m", 1, fn(256).withMinInstances(2)), null, null);
        assertEquals(1, d.state("m").live(), "one start failed");
        assertEquals(256, d.poolState().reservedMib(), "the failed start gave its memory back");
        clock.advance(CallDispatcher.MIN_RETRY.minusSeconds(1));
        assertEquals(1, d.state("m").live());
        clock.advance(Duration.ofSeconds(1));
        assertEquals(2, d.state("m").live());
        assertEquals(2, d.state("m").pinnedIdle());
        // A crash of a minimum instance is replaced at once.
        engine.of("m").get(0).crash();
        assertEquals(2, d.state("m").live());
        assertEquals(3, engine.of("m").size());
    }

    // ---- failures, redeploy, shutdown ----------------------------------------------------

    @Test
    void aFailedStartFailsTheCallAndGivesItsMemoryBack() {
        CallDispatcher d = dispatcher(256, 10);
        d.activate(template("f", 1, fn(256)), null, null);
        engine.failNextStarts(1);
        CallException e = failure(submit(d, "f", "x"));
        assertEquals(CallException.Codes.START_FAILED, e.code());
        assertEquals("fake init output", e.details().get("output").asText());
        assertEquals(0, d.poolState().reservedMib() + d.poolState().idleMib());
        assertEquals(0, d.state("f").inFlight());
        callOnce(d, "f");
    }

    @Test
    void anAgentErrorThatLeavesTheInstanceDirtyDestroysItAfterTheCallerHasItsAnswer() {
        CallDispatcher d = dispatcher(256, 10);
        engine.holdTeardowns();
        d.activate(template("f", 1, fn(256)), null, null);
        d.activate(template("g", 1, fn(256)), null, null);
        CompletableFuture<CallResult> call = submit(d, "f", "x");
        FakeInstance i = engine.busyOne("f");
        CompletableFuture<CallResult> other = submit(d, "g", "y");
        i.answerError("timeout");
        assertEquals("timeout", failure(call).code(), "the caller heard while the VM is still being torn down");
        assertTrue(i.destroyed() && !i.isGone());
        assertEquals(256, d.poolState().reservedMib(), "a retiring VM holds its memory");
        assertEquals(0, engine.of("g").size(), "g waits for that memory");
        i.finishTeardown();
        assertEquals(1, engine.of("g").size());
        engine.busyOne("g").answer("G");
        assertEquals("G", text(other));
    }

    @Test
    void aFunctionErrorKeepsTheInstance() {
        CallDispatcher d = dispatcher(1024, 10);
        d.activate(template("f", 1, fn(256)), null, null);
        CompletableFuture<CallResult> call = submit(d, "f", "x");
        FakeInstance i = engine.busyOne("f");
        i.answerError("function_error");
        assertEquals("function_error", failure(call).code());
        assertFalse(i.destroyed());
        assertEquals(1, d.state("f").cachedIdle());
    }

    @Test
    void anIdleInstanceThatDiesOnItsOwnLeavesThePool() {
        CallDispatcher d = dispatcher(1024, 10);
        d.activate(template("f", 1, fn(256)), null, null);
        FakeInstance i = callOnce(d, "f");
        i.crash();
        assertEquals(0, d.state("f").live());
        assertNotSame(i, callOnce(d, "f"));
    }

    @Test
    void redeployWithACallInFlightFinishesItOnTheOldVersionThenRetiresTheOldVersion() {
        CallDispatcher d = dispatcher(1024, 10);
        d.activate(template("v", 1, fn(256)), null, null);
        FakeInstance idleOld = callOnce(d, "v");
        CompletableFuture<CallResult> first = submit(d, "v", "a");
        CompletableFuture<CallResult> second = submit(d, "v", "b");
        FakeInstance busyOld = engine.of("v").stream().filter(i -> i != idleOld && i.busy()).findFirst()
                .orElseThrow();
        idleOld.answer("A");
        assertEquals("A", text(first));

        d.activate(template("v", 2, fn(256)), null, null);
        assertTrue(idleOld.isGone(), "an idle instance of the old version goes at once");
        assertFalse(busyOld.destroyed(), "a busy one finishes its call");
        assertTrue(retired.isEmpty());
        CompletableFuture<CallResult> fresh = submit(d, "v", "c");
        FakeInstance v2 = engine.of("v").stream().filter(i -> i.key().version() == 2).findFirst().orElseThrow();
        assertTrue(v2.busy());

        busyOld.answer("B");
        assertEquals(1, second.join().version());
        assertTrue(busyOld.isGone());
        assertEquals(List.of(new PoolKey("v", 1)), retired, "the old version's snapshot may go");
        v2.answer("C");
        assertEquals(2, fresh.join().version());
    }

    @Test
    void deleteFailsWaitingCallsAndLetsRunningOnesFinish() {
        CallDispatcher d = dispatcher(1024, 10);
        d.activate(template("f", 1, fn(256).withMaxConcurrency(1)), null, null);
        CompletableFuture<CallResult> running = submit(d, "f", "a");
        CompletableFuture<CallResult> waiting = submit(d, "f", "b");
        d.deactivate("f");
        assertEquals(CallException.Codes.NOT_FOUND, failure(waiting).code());
        assertEquals(CallException.Codes.NOT_FOUND, failure(submit(d, "f", "c")).code());
        FakeInstance i = engine.busyOne("f");
        i.answer("A");
        assertEquals("A", text(running));
        assertTrue(i.isGone());
        assertEquals(List.of(new PoolKey("f", 1)), retired);
    }

    @Test
    void shutdownFailsWaitingCallsDrainsBusyOnesThenDestroysEveryInstance() {
        CallDispatcher d = dispatcher(1024, 10);
        d.activate(template("f", 1, fn(256).withMaxConcurrency(2).withMaxInstances(2)), null, null);
        d.activate(template("idle", 1, fn(256)), null, null);
        FakeInstance idle = callOnce(d, "idle");
        CompletableFuture<CallResult> quick = submit(d, "f", "q");
        CompletableFuture<CallResult> slow = submit(d, "f", "s");
        CompletableFuture<CallResult> waiting = submit(d, "f", "w");

        CompletableFuture<Void> drained = d.stopAdmitting();
        assertEquals(CallException.Codes.SHUTTING_DOWN, failure(waiting).code());
        assertEquals(CallException.Codes.SHUTTING_DOWN, failure(submit(d, "f", "late")).code());
        assertFalse(drained.isDone());
        FakeInstance q = engine.of("f").stream().filter(i -> i.inputs().contains("q")).findFirst().orElseThrow();
        q.answer("Q");
        assertEquals("Q", text(quick));
        assertTrue(q.isGone(), "no instance goes back idle while shutting down");
        assertFalse(drained.isDone(), "the slow call is still in flight");

        CompletableFuture<Void> allGone = d.destroyAll();
        assertEquals(CallException.Codes.CRASHED, failure(slow).code(), "cut off after the drain");
        assertTrue(allGone.isDone());
        assertTrue(idle.isGone());
        assertTrue(engine.alive().isEmpty());
        assertEquals(0, d.poolState().liveInstances());
    }

    @Test
    void anInstanceThatFinishesStartingAfterShutdownIsDestroyedAtOnce() {
        List<Runnable> vmTasks = new ArrayList<>();
        CallDispatcher d = new CallDispatcher(1024, engine, vmTasks::add, Runnable::run, clock, 10, QUEUE_TIMEOUT,
                CallDispatcher.Events.NONE, retired::add);
        d.activate(template("f", 1, fn(256)), null, null);
        CompletableFuture<CallResult> call = submit(d, "f", "x");
        assertEquals(1, vmTasks.size(), "the cold start is handed to a VM thread");
        d.stopAdmitting();
        CompletableFuture<Void> allGone = d.destroyAll();
        assertFalse(allGone.isDone(), "the start is still running");
        vmTasks.remove(0).run();
        assertEquals(CallException.Codes.CRASHED, failure(call).code());
        assertTrue(engine.of("f").get(0).isGone());
        assertTrue(allGone.isDone());
    }
}
