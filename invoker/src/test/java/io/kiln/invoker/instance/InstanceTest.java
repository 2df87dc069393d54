package io.kiln.invoker.instance;

import io.kiln.microvm.vm.MicroVm;
import io.kiln.microvm.vm.VmExit;
import io.kiln.microvm.vm.VmState;
import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.InvokeFrame;
import io.kiln.protocol.LogFrame;
import io.kiln.protocol.ResultFrame;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The host's side of the conversation against a scripted guest over pipes: which LOG frames it
 * accepts, and that teardown happens after the caller hears and off the thread that noticed.
 * No sleeps: every wait is on a future or a latch the test controls.
 */
class InstanceTest {

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService teardown = Executors.newCachedThreadPool(r -> new Thread(r, "test-teardown"));
    private final FrameCodec codec = new FrameCodec();
    private final List<String> logged = new CopyOnWriteArrayList<>();
    private final LogSink sink = new LogSink() {
        @Override
        public void log(long instanceId, long callId, String stream, byte[] bytes) {
            logged.add(callId + ":" + new String(bytes, StandardCharsets.UTF_8));
        }

        @Override
        public void console(long instanceId, String line) {
        }
    };

    @AfterEach
    void stop() {
        timer.shutdownNow();
        teardown.shutdownNow();
    }

    /** A VM whose guest is the test: it writes frames to the host and reads what the host sends. */
    private static final class ScriptedVm implements MicroVm {
        final PipedInputStream fromGuest = new PipedInputStream(1 << 20);
        final PipedOutputStream guestWrites;
        final PipedInputStream guestReads = new PipedInputStream(1 << 20);
        final PipedOutputStream toGuest;
        final CompletableFuture<VmExit> exit = new CompletableFuture<>();
        final CountDownLatch destroyMayFinish = new CountDownLatch(1);
        final CompletableFuture<String> destroyedOn = new CompletableFuture<>();

        ScriptedVm(boolean slowDestroy) throws IOException {
            guestWrites = new PipedOutputStream(fromGuest);
            toGuest = new PipedOutputStream(guestReads);
            if (!slowDestroy) {
                destroyMayFinish.countDown();
            }
        }

        @Override
        public void start() {
        }

        @Override
        public void pause() {
        }

        @Override
        public void resume() {
        }

        @Override
        public void snapshot(Path directory) {
            throw new UnsupportedOperationException();
        }

        /** Like a real VMM's: joins its threads, which can take a while. */
        @Override
        public void destroy() {
            destroyedOn.complete(Thread.currentThread().getName());
            try {
                destroyMayFinish.await(30, TimeUnit.SECONDS);
                guestWrites.close();
            } catch (InterruptedException | IOException e) {
                Thread.currentThread().interrupt();
            }
            exit.complete(new VmExit(VmExit.Reason.DESTROYED, "destroyed"));
        }

        @Override
        public VmState state() {
            return exit.isDone() ? VmState.DESTROYED : VmState.RUNNING;
        }

        @Override
        public CompletableFuture<VmExit> exit() {
            return exit;
        }

        @Override
        public InputStream fromGuest() {
            return fromGuest;
        }

        @Override
        public OutputStream toGuest() {
            return toGuest;
        }
    }

    private Instance instance(ScriptedVm vm) {
        return new Instance(7, vm, new ConsoleTail(7, sink), sink, timer, teardown);
    }

    private void guestSends(ScriptedVm vm, Frame frame) throws IOException {
        codec.write(vm.guestWrites, frame);
        vm.guestWrites.flush();
    }

    private static InvokeFrame invoke(long callId) {
        return new InvokeFrame(callId, "{}", "in".getBytes(StandardCharsets.UTF_8));
    }

    private static LogFrame log(long callId, String text) {
        return new LogFrame(callId, "{\"stream\":\"stdout\"}", text.getBytes(StandardCharsets.UTF_8));
    }

    private static Throwable failureOf(CompletableFuture<Frame> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void logsOfTheCallInFlightAndOfNoCallAreAccepted() throws Exception {
        ScriptedVm vm = new ScriptedVm(false);
        Instance instance = instance(vm);
        CompletableFuture<Frame> answer = instance.send(invoke(42), Duration.ofSeconds(30));
        guestSends(vm, log(0, "idle line"));
        guestSends(vm, log(42, "call line"));
        guestSends(vm, new ResultFrame(42, "", "out".getBytes(StandardCharsets.UTF_8)));
        assertInstanceOf(ResultFrame.class, answer.get(30, TimeUnit.SECONDS));
        assertEquals(List.of("0:idle line", "42:call line"), logged);
        assertTrue(instance.alive());
        instance.destroy("test over");
        instance.gone().get(30, TimeUnit.SECONDS);
    }

    @Test
    void aLogForACallNotInFlightIsAProtocolViolation() throws Exception {
        ScriptedVm vm = new ScriptedVm(false);
        Instance instance = instance(vm);
        CompletableFuture<Frame> answer = instance.send(invoke(42), Duration.ofSeconds(30));
        guestSends(vm, log(41, "someone else's line"));
        InstanceFailure f = assertInstanceOf(InstanceFailure.class, failureOf(answer));
        assertEquals(InstanceFailure.Kind.PROTOCOL, f.kind());
        assertEquals("instance 7 sent a LOG for call 41, which is not in flight", f.getMessage());
        instance.gone().get(30, TimeUnit.SECONDS);
        assertFalse(instance.alive());
        assertTrue(logged.isEmpty(), "the line is not logged");
    }

    @Test
    void aLogForTheLastCallAfterItsAnswerIsAProtocolViolationToo() throws Exception {
        ScriptedVm vm = new ScriptedVm(false);
        Instance instance = instance(vm);
        CompletableFuture<Frame> answer = instance.send(invoke(42), Duration.ofSeconds(30));
        guestSends(vm, new ResultFrame(42, "", new byte[0]));
        answer.get(30, TimeUnit.SECONDS);
        guestSends(vm, log(42, "late"));
        instance.gone().get(30, TimeUnit.SECONDS);
        assertFalse(instance.alive());
    }

    @Test
    void aMissedDeadlineFailsTheCallerFirstAndTearsDownOffTheTimerThread() throws Exception {
        ScriptedVm vm = new ScriptedVm(true);
        Instance instance = instance(vm);
        CompletableFuture<Frame> answer = instance.send(invoke(1), Duration.ofMillis(1));
        InstanceFailure f = assertInstanceOf(InstanceFailure.class, failureOf(answer));
        assertEquals(InstanceFailure.Kind.TIMEOUT, f.kind());
        // The caller has its answer while the VM's teardown is still blocked, and not on the timer.
        assertEquals("test-teardown", vm.destroyedOn.get(30, TimeUnit.SECONDS));
        assertFalse(instance.gone().isDone(), "memory is not free until the VM is gone");
        // The timer is free for other deadlines meanwhile.
        assertEquals("ok", timer.schedule(() -> "ok", 0, TimeUnit.MILLISECONDS).get(30, TimeUnit.SECONDS));
        vm.destroyMayFinish.countDown();
        instance.gone().get(30, TimeUnit.SECONDS);
    }

    @Test
    void destroyReturnsAtOnceAndTheOutstandingRequestFailsBeforeTheVmIsGone() throws Exception {
        ScriptedVm vm = new ScriptedVm(true);
        Instance instance = instance(vm);
        CompletableFuture<Frame> answer = instance.send(invoke(1), Duration.ofSeconds(30));
        instance.destroy("evicted");
        assertEquals(InstanceFailure.Kind.DESTROYED,
                assertInstanceOf(InstanceFailure.class, failureOf(answer)).kind());
        assertNotEquals(Thread.currentThread().getName(), vm.destroyedOn.get(30, TimeUnit.SECONDS));
        assertFalse(instance.gone().isDone());
        vm.destroyMayFinish.countDown();
        instance.gone().get(30, TimeUnit.SECONDS);
    }
}
