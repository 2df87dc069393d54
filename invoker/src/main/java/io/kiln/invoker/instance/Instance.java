package io.kiln.invoker.instance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kiln.microvm.vm.MicroVm;
import io.kiln.microvm.vm.VmExit;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.FrameType;
import io.kiln.protocol.LogFrame;
import io.kiln.protocol.ProtocolException;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The host's side of one agent conversation over one VM. Strictly request/answer: at most one
 * request is outstanding, and the next frame from the agent that is not a LOG must answer it.
 *
 * <p>The guest is hostile. Any frame the codec rejects, any answer of the wrong type or call id,
 * a LOG whose call id is neither 0 nor the call in flight, any frame nobody asked for (other
 * than LOG, and the ERROR an agent sends before it exits), and any answer later than the
 * deadline destroys the VM; the waiting request fails with an {@link InstanceFailure} that says
 * why. Nothing the guest sends can make the host wait without bound or keep more than one frame
 * (capped by the codec's limits) in memory.
 *
 * <p>Teardown never runs on the thread that notices the failure (the reader, the deadline
 * timer, the dispatcher): the waiting request fails first, then {@code vm.destroy()}, which
 * may join vCPU threads for seconds, runs on {@code teardown}; {@link #gone()} completes after.
 */
public final class Instance implements InstanceHandle {

    private static final ObjectMapper JSON = new ObjectMapper();

    private record Pending(long callId, Set<FrameType> answers, CompletableFuture<Frame> answer) {
    }

    private final long id;
    private final MicroVm vm;
    private final ConsoleTail console;
    private final LogSink logs;
    private final ScheduledExecutorService timer;
    private final Executor teardown;
    private final CompletableFuture<Void> torndown = new CompletableFuture<>();
    private final FrameCodec codec = new FrameCodec();
    private final AtomicReference<Pending> pending = new AtomicReference<>();
    private final Object writeLock = new Object();
    private final AtomicReference<InstanceFailure> gone = new AtomicReference<>();
    /** The ERROR an agent sent on its way out, to explain the crash that follows. */
    private volatile ErrorFrame lastWords;
    /** Set by the launcher once the instance is ready. */
    private volatile StartPhases startPhases = StartPhases.NONE;

    /**
     * @param console  the tail the VM's console was given at creation
     * @param teardown where {@code vm.destroy()} runs
     */
    public Instance(long id, MicroVm vm, ConsoleTail console, LogSink logs, ScheduledExecutorService timer,
                    Executor teardown) {
        this.id = id;
        this.vm = vm;
        this.console = console;
        this.logs = logs;
        this.timer = timer;
        this.teardown = teardown;
        Thread reader = new Thread(this::readLoop, "kiln-instance-" + id);
        reader.setDaemon(true);
        reader.start();
    }

    @Override
    public long id() {
        return id;
    }

    @Override
    public CompletableFuture<Void> gone() {
        return torndown;
    }

    @Override
    public StartPhases startPhases() {
        return startPhases;
    }

    void startPhases(StartPhases phases) {
        this.startPhases = phases;
    }

    /** Completes when the VM stops for good, whoever stopped it. */
    public CompletableFuture<VmExit> exit() {
        return vm.exit();
    }

    /** False once the instance has been destroyed, for whatever reason. */
    public boolean alive() {
        return gone.get() == null;
    }

    /** Waits for the agent's READY (a freshly booted runtime). */
    public CompletableFuture<Frame> awaitReady(Duration timeout) {
        return request(null, 0, EnumSet.of(FrameType.READY), timeout);
    }

    /**
     * Sends {@code frame} and completes with the agent's answer: INITIALIZED for LOAD, RESTORED
     * for RESTORED, RESULT for INVOKE, or an ERROR. Fails with {@link InstanceFailure} if the
     * instance dies, misbehaves or misses {@code timeout}; it is destroyed then.
     */
    @Override
    public CompletableFuture<Frame> send(Frame frame, Duration timeout) {
        Set<FrameType> answers = switch (frame.type()) {
            case LOAD -> EnumSet.of(FrameType.INITIALIZED);
            case RESTORED -> EnumSet.of(FrameType.RESTORED);
            case INVOKE -> EnumSet.of(FrameType.RESULT);
            default -> throw new IllegalArgumentException(frame.type() + " is not a request");
        };
        answers.add(FrameType.ERROR);
        return request(frame, frame.callId(), answers, timeout);
    }

    private CompletableFuture<Frame> request(Frame frame, long callId, Set<FrameType> answers, Duration timeout) {
        CompletableFuture<Frame> answer = new CompletableFuture<>();
        InstanceFailure dead = gone.get();
        if (dead != null) {
            return CompletableFuture.failedFuture(dead);
        }
        Pending p = new Pending(callId, answers, answer);
        if (!pending.compareAndSet(null, p)) {
            throw new IllegalStateException("instance " + id + " already has a request outstanding");
        }
        // Armed before writing: a guest that stops reading blocks the write until the deadline
        // destroys the VM, which ends the write.
        ScheduledFuture<?> deadline = timer.schedule(() -> {
            if (pending.get() == p) {
                fail(new InstanceFailure(InstanceFailure.Kind.TIMEOUT, "instance " + id + " did not answer within "
                        + timeout.toMillis() + " ms", console.text(), null));
            }
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        answer.whenComplete((f, t) -> deadline.cancel(false));
        if (frame != null) {
            try {
                // A hostile guest may answer before it has read the whole request; the lock
                // keeps the next request's frame from interleaving with the rest of this one.
                synchronized (writeLock) {
                    codec.write(vm.toGuest(), frame);
                }
            } catch (IOException e) {
                fail(crashed("writing " + frame.type() + " to instance " + id + " failed: " + e.getMessage(), e));
            }
        }
        return answer;
    }

    /**
     * Writes a snapshot of the VM into {@code directory}, then destroys it: this instance is
     * done (an engine may hand the VM's memory over to the snapshot). Nothing may be outstanding.
     */
    public void snapshot(Path directory) throws IOException {
        if (pending.get() != null) {
            throw new IllegalStateException("instance " + id + " cannot be snapshotted with a request outstanding");
        }
        // Retired first, so the channel closing under the reader is not taken for a crash.
        if (!gone.compareAndSet(null, new InstanceFailure(InstanceFailure.Kind.DESTROYED, "instance " + id
                + " was snapshotted", "", null))) {
            throw gone.get();
        }
        try {
            vm.snapshot(directory);
        } finally {
            vm.destroy();
            torndown.complete(null);
        }
    }

    /**
     * Destroys the VM in the background; an outstanding request fails as
     * {@link InstanceFailure.Kind#DESTROYED} at once.
     */
    @Override
    public void destroy(String why) {
        fail(new InstanceFailure(InstanceFailure.Kind.DESTROYED, "instance " + id + " was destroyed: " + why, "",
                null));
    }

    /** As {@link #destroy}, then waits until the VM is gone: for the launcher's VM threads only. */
    public void destroyAndWait(String why) {
        destroy(why);
        torndown.join();
    }

    /**
     * The first failure wins. Any outstanding request fails with it before the VM is torn down
     * (the caller must not wait for teardown), and the teardown runs on {@code teardown}.
     */
    private void fail(InstanceFailure failure) {
        boolean first = gone.compareAndSet(null, failure);
        Pending p = pending.getAndSet(null);
        if (p != null) {
            p.answer.completeExceptionally(gone.get());
        }
        if (first) {
            try {
                teardown.execute(this::tearDown);
            } catch (RejectedExecutionException shuttingDown) {
                tearDown();
            }
        }
    }

    private void tearDown() {
        try {
            vm.destroy();
        } catch (RuntimeException e) {
            System.getLogger(Instance.class.getName()).log(System.Logger.Level.WARNING,
                    "destroying instance " + id + " failed: " + e);
        } finally {
            torndown.complete(null);
        }
    }

    private void readLoop() {
        try {
            while (gone.get() == null) {
                Frame frame = codec.read(vm.fromGuest());
                if (frame instanceof LogFrame log) {
                    log(log);
                } else {
                    deliver(frame);
                }
            }
        } catch (ProtocolException e) {
            fail(new InstanceFailure(InstanceFailure.Kind.PROTOCOL, "instance " + id + " broke the protocol ("
                    + e.reason().code() + ": " + e.getMessage() + ")", console.text(), e));
        } catch (IOException | RuntimeException e) {
            fail(crashed("instance " + id + " stopped", e));
        }
    }

    /**
     * A LOG belongs to the call in flight or to no call (id 0: init, restore, idle time). Any
     * other id is a call that is not in flight: docs/PROTOCOL.md makes that fatal for the VM.
     */
    private void log(LogFrame log) {
        Pending p = pending.get();
        if (log.callId() != 0 && (p == null || p.callId != log.callId())) {
            fail(new InstanceFailure(InstanceFailure.Kind.PROTOCOL, "instance " + id + " sent a LOG for call "
                    + Long.toUnsignedString(log.callId()) + ", which is not in flight", console.text(), null));
            return;
        }
        logs.log(id, log.callId(), stream(log), log.body());
    }

    private void deliver(Frame frame) {
        Pending p = pending.get();
        boolean answers = p != null && p.answers.contains(frame.type())
                && (frame.callId() == p.callId || frame instanceof ErrorFrame && frame.callId() == 0);
        if (answers && pending.compareAndSet(p, null)) {
            p.answer.complete(frame);
        } else if (frame instanceof ErrorFrame e && e.callId() == 0) {
            lastWords = e; // an agent says why before it exits; the crash report quotes it
        } else {
            fail(new InstanceFailure(InstanceFailure.Kind.PROTOCOL, "instance " + id + " sent an unexpected "
                    + frame.type() + " (call " + Long.toUnsignedString(frame.callId()) + ")"
                    + (p == null ? " when nothing was asked" : ""), console.text(), null));
        }
    }

    /** A crash, described by what the VM's exit and the agent's last ERROR say. */
    private InstanceFailure crashed(String what, Throwable cause) {
        if (gone.get() != null) {
            return gone.get();
        }
        VmExit exit = null;
        try {
            exit = vm.exit().get(1, TimeUnit.SECONDS);
        } catch (Exception notYet) {
            // The channel broke before the VM stopped: say what we know.
        }
        StringBuilder message = new StringBuilder(what);
        if (exit != null) {
            message.append(": ").append(exit.reason().name().toLowerCase()).append(" (").append(exit.detail())
                    .append(')');
        } else if (cause != null) {
            message.append(": ").append(cause.getMessage());
        }
        ErrorFrame words = lastWords;
        if (words != null) {
            message.append("; the agent's last error: ").append(words.metadata());
        }
        return new InstanceFailure(InstanceFailure.Kind.CRASHED, message.toString(), console.text(), cause);
    }

    private static String stream(LogFrame log) {
        try {
            JsonNode stream = JSON.readTree(log.metadata().isEmpty() ? "{}" : log.metadata()).get("stream");
            return stream != null && stream.isTextual() ? stream.asText() : "stdout";
        } catch (IOException e) {
            return "stdout";
        }
    }

    @Override
    public String toString() {
        return "instance " + id;
    }
}
