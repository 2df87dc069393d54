package io.kiln.invoker;

import io.kiln.agent.testing.Fixtures;
import io.kiln.invoker.call.CallDispatcher.FunctionState;
import io.kiln.invoker.call.CallException;
import io.kiln.invoker.call.CallRequest;
import io.kiln.invoker.call.CallResult;
import io.kiln.invoker.instance.StartFailure;
import io.kiln.invoker.logs.LogLine;
import io.kiln.invoker.store.FunctionConfig;
import io.kiln.invoker.store.FunctionVersion;
import io.kiln.invoker.testing.Await;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static io.kiln.invoker.testing.Calls.call;
import static io.kiln.invoker.testing.Calls.failure;
import static io.kiln.invoker.testing.Calls.join;
import static io.kiln.invoker.testing.Calls.start;
import static io.kiln.invoker.testing.Calls.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The invoker's pool and admission logic with real agents as host processes (the process
 * engine): seconds instead of the minutes a VM engine takes here. The VM-specific paths are in
 * {@link VmInvokerTest}.
 */
class ProcessEngineInvokerTest {

    private static final Duration SETTLE = Duration.ofSeconds(10);

    @TempDir
    Path data;

    private Invoker invoker;
    private SimpleMeterRegistry metrics;

    private Invoker open(InvokerConfig config) throws IOException {
        metrics = new SimpleMeterRegistry();
        invoker = Invoker.start(config, metrics);
        return invoker;
    }

    private InvokerConfig config(long budgetMib) {
        return InvokerConfig.defaults(data).withEngine("process").withMemoryBudgetMib(budgetMib);
    }

    @AfterEach
    void close() {
        if (invoker != null) {
            invoker.close();
        }
    }

    private FunctionVersion deploy(String name, FunctionConfig config) throws IOException {
        return invoker.deploy(name, new ByteArrayInputStream(Fixtures.functions()), config, line -> { });
    }

    private static FunctionConfig probe(int memoryMib) {
        return FunctionConfig.of("com.example.Probe").withMemoryMib(memoryMib);
    }

    @Test
    void deployedFunctionAnswersAndItsInstanceIsReused() throws IOException {
        open(config(1024));
        assertEquals("process", invoker.engine().engine().name());
        assertFalse(invoker.engine().engine().isolated());
        List<String> progress = new ArrayList<>();
        FunctionVersion v = invoker.deploy("probe", new ByteArrayInputStream(Fixtures.functions()), probe(256),
                progress::add);
        assertEquals(1, v.version());
        assertEquals("receiving the jar", progress.get(0));
        assertTrue(progress.get(progress.size() - 1).startsWith("version 1 of probe is ready"), progress::toString);

        // The deploy's own instance serves the first call, warm; then again, the same instance.
        CallResult first = call(invoker, "probe", "count");
        assertEquals("calls=1", text(first));
        assertFalse(first.timings().cold());
        CallResult second = call(invoker, "probe", "count");
        assertEquals("calls=2", text(second));
        assertFalse(second.timings().cold());

        // Two at once: the warm instance takes one, a new one (cold) the other.
        CompletableFuture<CallResult> a = start(invoker, "probe", "sleep 800");
        CompletableFuture<CallResult> b = start(invoker, "probe", "sleep 800");
        List<String> answers = new ArrayList<>(List.of(text(join(a)), text(join(b))));
        answers.sort(null);
        assertEquals(List.of("calls=1", "calls=3"), answers);
        assertEquals(1, (join(a).timings().cold() ? 1 : 0) + (join(b).timings().cold() ? 1 : 0));
        FunctionState state = invoker.state("probe");
        assertEquals(2, state.live());
        assertEquals(0, state.inFlight());
    }

    @Test
    void tightBudgetEvictsIdleInstancesButNeverAFunctionsMinimum() throws IOException {
        open(config(1024));
        deploy("a", probe(256));
        // A second instance of a: two calls at once.
        CompletableFuture<CallResult> a1 = start(invoker, "a", "sleep 500");
        CompletableFuture<CallResult> a2 = start(invoker, "a", "sleep 500");
        join(a1);
        join(a2);
        Await.until(SETTLE, 2, () -> invoker.state("a").cachedIdle(), "idle instances of a");
        deploy("b", probe(256).withMinInstances(1));
        Await.until(SETTLE, 1, () -> invoker.state("b").pinnedIdle(), "pinned instances of b");
        assertEquals(256, invoker.poolState().reservedMib());
        // Caffeine weighs a new entry in its maintenance, a moment after the put.
        Await.until(SETTLE, 512L, () -> invoker.poolState().idleMib(), "idle memory");

        // c needs 512 MiB: b's 256 are pinned, so one of a's two idle instances must go.
        deploy("c", probe(512));
        Await.until(SETTLE, List.of(1, 1, 1), () -> List.of(invoker.state("a").live(), invoker.state("b").live(),
                invoker.state("c").live()), "instances of a, b, c");
        assertEquals(1, invoker.state("b").pinnedIdle());
        assertEquals(256, invoker.poolState().reservedMib());
        Await.until(SETTLE, 768L, () -> invoker.poolState().idleMib(), "idle memory");

        // A call to c while a and b idle: c's idle instance (the deploy's) serves it.
        CallResult c = call(invoker, "c", "count");
        assertEquals("calls=1", text(c));
        assertFalse(c.timings().cold());
        // d needs 768: only a's and c's idle instances can go, b's minimum stays.
        deploy("d", probe(768));
        Await.until(SETTLE, List.of(0, 1, 0, 1), () -> List.of(invoker.state("a").live(),
                invoker.state("b").live(), invoker.state("c").live(), invoker.state("d").live()),
                "instances of a, b, c, d");
        assertEquals(1, invoker.state("b").pinnedIdle());
        assertEquals(2, invoker.poolState().liveInstances(), "b and d only");
    }

    @Test
    void callsBeyondConcurrencyAndQueueAreRefusedWithRetryAfter() throws IOException {
        open(config(1024).withQueue(1, Duration.ofSeconds(20)));
        deploy("one", probe(256).withMaxConcurrency(1));
        CompletableFuture<CallResult> running = start(invoker, "one", "sleep 1500");
        Await.until(SETTLE, 1, () -> invoker.state("one").inFlight(), "calls in flight");
        CompletableFuture<CallResult> waiting = start(invoker, "one", "count");
        Await.until(SETTLE, 1, () -> invoker.state("one").queued(), "calls waiting");
        CallException refused = failure(start(invoker, "one", "count"));
        assertEquals(CallException.Codes.QUEUE_FULL, refused.code());
        assertEquals(Duration.ofSeconds(1), refused.retryAfter());
        assertEquals("function one has 1 calls in flight (its limit is 1) and 1 waiting, the most allowed; "
                + "try again later", refused.getMessage());
        assertEquals("calls=1", text(join(running)));
        assertEquals("calls=2", text(join(waiting)), "the waiting call ran on the same instance, after");
    }

    @Test
    void aCallThatMayNotWaitIsRefusedAtCapacityWhileAQueuedOneWaits() throws IOException {
        open(config(1024).withQueue(5, Duration.ofSeconds(20)));
        deploy("one", probe(256).withMaxConcurrency(1));
        CompletableFuture<CallResult> running = start(invoker, "one", "sleep 800");
        Await.until(SETTLE, 1, () -> invoker.state("one").inFlight(), "the first call running");
        CallException refused = failure(invoker.invoke("one",
                io.kiln.invoker.call.CallRequest.of("count".getBytes()), io.kiln.invoker.call.IfBusy.REFUSE));
        assertEquals(CallException.Codes.AT_CAPACITY, refused.code());
        CompletableFuture<CallResult> waiting = invoker.invoke("one",
                io.kiln.invoker.call.CallRequest.of("count".getBytes()), io.kiln.invoker.call.IfBusy.QUEUE);
        assertEquals(1, invoker.state("one").queued());
        join(running);
        assertEquals("calls=2", text(join(waiting)), "the refused call never reached the instance");
    }

    @Test
    void aCallWaitingLongerThanTheQueueTimeoutIsRefused() throws IOException {
        open(config(1024).withQueue(10, Duration.ofMillis(300)));
        deploy("one", probe(256).withMaxConcurrency(1));
        CompletableFuture<CallResult> running = start(invoker, "one", "sleep 1500");
        CallException e = failure(start(invoker, "one", "count"));
        assertEquals(CallException.Codes.QUEUE_TIMEOUT, e.code());
        assertNotNull(e.retryAfter());
        assertEquals("calls=1", text(join(running)));
    }

    @Test
    void aTimedOutCallDestroysItsInstanceAndTheNextCallGetsAFreshOne() throws IOException {
        open(config(1024));
        deploy("slow", probe(256).withTimeout(Duration.ofMillis(500)));
        assertEquals("calls=1", text(call(invoker, "slow", "count")));
        CompletableFuture<CallResult> late = start(invoker, "slow", "sleep 5000");
        CallException e = failure(late);
        assertEquals("timeout", e.code());
        assertEquals("call did not finish within 500 ms; the host should replace this instance", e.getMessage());
        assertTrue(e.details().get("stack").toString().contains("com.example.Probe.handle("), e.details()::toString);
        CallResult next = call(invoker, "slow", "count");
        assertEquals("calls=1", text(next), "a new instance, not the timed-out one");
        assertTrue(next.timings().cold());
        Await.until(SETTLE, 1, () -> invoker.state("slow").live(), "live instances");

        assertEquals(2.0, metrics.get("kiln.calls").tags("function", "slow", "outcome", "ok").counter().count());
        assertEquals(1.0, metrics.get("kiln.calls").tags("function", "slow", "outcome", "timeout").counter().count());
        assertEquals(2.0, metrics.get("kiln.starts").tags("function", "slow", "start", "warm").counter().count());
        assertEquals(1.0, metrics.get("kiln.starts").tags("function", "slow", "start", "cold").counter().count());
        assertEquals(1, metrics.get("kiln.cold.start").tags("function", "slow").timer().count());
        assertEquals(3, metrics.get("kiln.invoke").tags("function", "slow").timer().count());
        assertEquals(1.0, metrics.get("kiln.pool.live.instances").gauge().value());
    }

    @Test
    void aCrashFailsTheCallClearlyAndTheNextCallWorks() throws IOException {
        open(config(1024));
        deploy("crashy", probe(256));
        CallException e = failure(start(invoker, "crashy", "halt"));
        assertEquals(CallException.Codes.CRASHED, e.code());
        assertTrue(e.getMessage().contains("agent process exited with 7"), e.getMessage());
        assertEquals("calls=1", text(call(invoker, "crashy", "count")));
    }

    @Test
    void garbageOnTheChannelIsAProtocolViolationAndTheInstanceIsDestroyed() throws IOException {
        open(config(1024));
        deploy("liar", probe(256));
        CallException e = failure(start(invoker, "liar", "garbage"));
        assertEquals(CallException.Codes.PROTOCOL, e.code());
        assertTrue(e.getMessage().contains("broke the protocol (bad_magic"), e.getMessage());
        Await.until(SETTLE, 0, () -> invoker.state("liar").live(), "live instances");
        assertEquals("calls=1", text(call(invoker, "liar", "count")));
    }

    @Test
    void logLinesCarryTheirCallIdAndAFloodOnlyPushesOutOldLines() throws IOException {
        open(config(1024));
        deploy("chatty", probe(256));
        CallResult r = call(invoker, "chatty", "print 3");
        List<LogLine> lines = invoker.logs().recent("chatty", 0, 100).stream()
                .filter(l -> l.callId().equals(CallRequest.format(r.callId()))).toList();
        assertEquals(List.of("line 1", "line 2", "line 3"), lines.stream().map(LogLine::text).toList());
        assertEquals(List.of("stdout", "stdout", "stdout"), lines.stream().map(LogLine::stream).toList());
        call(invoker, "chatty", "print 5000");
        List<LogLine> kept = invoker.logs().recent("chatty", 0, 10_000);
        assertEquals(2000, kept.size(), "the book keeps the newest 2000 lines");
        assertEquals("line 5000", kept.get(kept.size() - 1).text());
    }

    @Test
    void aFunctionErrorKeepsTheInstance() throws IOException {
        open(config(1024));
        deploy("fails", FunctionConfig.of("com.example.Fails").withMemoryMib(256));
        CallException e = failure(start(invoker, "fails", "boom"));
        assertEquals("function_error", e.code());
        assertEquals("boom: boom", e.getMessage());
        assertEquals("java.lang.IllegalStateException", e.details().get("type").asText());
        assertEquals("ok:x", text(call(invoker, "fails", "x")));
        assertEquals(1, invoker.state("fails").live());
    }

    @Test
    void redeployWhileACallRunsFinishesItOnTheOldVersion() throws IOException {
        open(config(1024));
        deploy("v", probe(256));
        CompletableFuture<CallResult> inFlight = start(invoker, "v", "sleep 1500");
        Await.until(SETTLE, 1, () -> invoker.state("v").inFlight(), "calls in flight");
        FunctionVersion v2 = deploy("v", probe(256).withTimeout(Duration.ofSeconds(20)));
        assertEquals(2, v2.version());
        CallResult old = join(inFlight);
        assertEquals(1, old.version());
        assertEquals("calls=1", text(old));
        CallResult fresh = call(invoker, "v", "count");
        assertEquals(2, fresh.version());
        // The old instance was destroyed when its call ended: only version 2's remains.
        Await.until(SETTLE, 1, () -> invoker.poolState().liveInstances(), "live instances");
    }

    @Test
    void aFailedInitKeepsThePreviousVersionAndReportsTheOutput() throws IOException {
        open(config(1024));
        deploy("f", probe(256));
        StartFailure e = assertThrows(StartFailure.class, () -> deploy("f",
                FunctionConfig.of("com.example.BadStatic").withMemoryMib(256)));
        assertEquals("init_failed", e.code());
        assertEquals(1, invoker.current("f").orElseThrow().version());
        assertEquals("calls=1", text(call(invoker, "f", "count")));
    }

    @Test
    void restartKeepsFunctionsAndDeleteForgetsThem() throws IOException {
        open(config(1024));
        deploy("keep", probe(256));
        invoker.close();
        open(config(1024));
        assertEquals(List.of("keep"), invoker.list().stream().map(FunctionVersion::name).toList());
        CallResult r = call(invoker, "keep", "count");
        assertEquals("calls=1", text(r));
        assertTrue(r.timings().cold());
        assertTrue(invoker.delete("keep"));
        assertEquals(CallException.Codes.NOT_FOUND, failure(start(invoker, "keep", "count")).code());
        Await.until(SETTLE, 0, () -> invoker.poolState().liveInstances(), "live instances");
    }

    @Test
    void shutdownDrainsCallsInFlightThenLeavesNoAgentBehind() throws IOException {
        open(config(1024));
        deploy("drain", probe(256).withMaxInstances(2));
        CompletableFuture<CallResult> shortCall = start(invoker, "drain", "sleep 300");
        CompletableFuture<CallResult> longCall = start(invoker, "drain", "sleep 20000");
        Await.until(SETTLE, 2, () -> invoker.state("drain").inFlight(), "calls in flight");
        invoker.shutdown(Duration.ofSeconds(2));
        assertEquals("calls=1", text(join(shortCall)), "finished within the drain");
        assertEquals(CallException.Codes.CRASHED, failure(longCall).code(), "cut off after the drain");
        assertEquals(CallException.Codes.SHUTTING_DOWN, failure(start(invoker, "drain", "count")).code());
        Await.until(SETTLE, List.of(), this::agentProcesses, "agent processes after shutdown");
    }

    @Test
    void aZeroKeepAliveLeavesNoInstanceBehindNotEvenTheDeploysOwn() throws IOException {
        open(config(1024));
        deploy("once", probe(256).withKeepAlive(Duration.ZERO));
        Await.until(SETTLE, List.of(), this::agentProcesses, "agent processes after the deploy");
        assertEquals("calls=1", text(call(invoker, "once", "count")));
        Await.until(SETTLE, List.of(), this::agentProcesses, "agent processes after the call");
        // Teardown is asynchronous: the process can be gone a moment before the pool has heard so.
        Await.until(SETTLE, 0, () -> invoker.poolState().liveInstances(), "live instances");
    }

    private List<Long> agentProcesses() {
        return ProcessHandle.current().descendants()
                .filter(p -> p.info().commandLine().map(c -> c.contains("kiln-agent.jar")).orElse(false))
                .map(ProcessHandle::pid).toList();
    }

    @Test
    void keepAliveExpiryDestroysIdleInstances() throws IOException {
        open(config(1024));
        deploy("brief", probe(256).withKeepAlive(Duration.ofMillis(300)));
        assertEquals("calls=1", text(call(invoker, "brief", "count")));
        Await.until(SETTLE, 0, () -> invoker.poolState().liveInstances(), "live instances after keep-alive");
        assertEquals("calls=1", text(call(invoker, "brief", "count")), "a fresh instance after expiry");
    }
}
