package io.kiln.agent;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.agent.call.CallRunner;
import io.kiln.agent.load.HandlerResolver;
import io.kiln.agent.load.InitFailure;
import io.kiln.agent.load.InitRunner;
import io.kiln.agent.load.LoadSpec;
import io.kiln.agent.load.LoadedFunction;
import io.kiln.agent.log.LogRouter;
import io.kiln.agent.restore.Reseeder;
import io.kiln.agent.restore.RestoreRunner;
import io.kiln.function.Kiln;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.FrameType;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.InvokeFrame;
import io.kiln.protocol.LoadFrame;
import io.kiln.protocol.ProtocolException;
import io.kiln.protocol.ReadyFrame;
import io.kiln.protocol.RestoredFrame;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalInt;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The agent: one dispatcher thread that owns all state and reacts to {@link Event}s, a reader
 * thread for the channel, one function thread where all user code runs (init, restore hooks,
 * calls: one at a time), and a timer for deadlines and stalled frames.
 *
 * <p>Why user code never runs on the dispatcher: the dispatcher must stay free to answer the
 * host while a call runs (a second INVOKE gets {@code busy}, a deadline gets a timeout ERROR,
 * a broken frame gets its ERROR) and to exit when the JVM is no longer trustworthy.
 *
 * <p>{@link #run()} returns the exit code; {@code Main} exits with it. In-process (tests,
 * benchmarks) the agent runs on any thread and leaves the JVM alone.
 */
public final class Agent {

    private enum Phase { AWAITING_LOAD, LOADING, LOADED, LOAD_FAILED }

    private enum JobKind { INIT, RESTORE, CALL }

    /**
     * A job on the function thread. Shared by the dispatcher and the function thread: the
     * final fields and {@code deadline} are set before the job is submitted (the executor
     * publishes them); {@code future} is the dispatcher's alone.
     */
    private static final class Job {
        final long seq;
        final JobKind kind;
        final long callId;
        final long timeoutMs;
        ScheduledFuture<?> deadline;
        Future<?> future;
        /**
         * Whoever sets this first sends the job's answer: the job itself when it finishes, or
         * the dispatcher when the deadline passes. The other one sends nothing.
         */
        final AtomicBoolean answered = new AtomicBoolean();
        /** Counted down when the job's code has returned and its bookkeeping is done. */
        final CountDownLatch ended = new CountDownLatch(1);

        Job(long seq, JobKind kind, long callId, long timeoutMs) {
            this.seq = seq;
            this.kind = kind;
            this.callId = callId;
            this.timeoutMs = timeoutMs;
        }
    }

    static final int MIN_ENTROPY = 16;
    static final long RESTORE_TIMEOUT_MS = 10_000;
    /**
     * How long an overdue job gets to honour its interrupt before the timeout is reported.
     * Code that does (a sleep, blocking I/O) is then idle by the time the host reads the
     * report, so the host's next INVOKE is served rather than refused as busy.
     */
    static final long INTERRUPT_GRACE_MS = 100;

    /** The ERROR metadata used when even building an error report fails for lack of memory. */
    private static final String OOM_META =
            "{\"code\":\"fatal\",\"message\":\"java.lang.OutOfMemoryError\","
                    + "\"type\":\"java.lang.OutOfMemoryError\"}";

    private final AgentOptions options;
    private final FrameCodec codec = new FrameCodec();
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final FrameSink sink;
    private final LogRouter logs;
    private final ChannelReader reader;
    private final Thread readerThread;
    private final ExecutorService functionExecutor;
    private final ScheduledExecutorService timer;
    private volatile Thread functionThread;
    /** Released on OutOfMemoryError so the report can be built; see {@link #runJob}. */
    private volatile byte[] reserve = new byte[1 << 20];
    private Runnable flushLogs = () -> { };
    private RestoreRunner restorer;
    private PrintStream console;

    /**
     * The job on the function thread, or null. Set by the dispatcher; cleared by the function
     * thread when a call finishes (the fast path, see {@link #finishCall}) or by the dispatcher
     * for other jobs.
     */
    private final AtomicReference<Job> active = new AtomicReference<>();

    // Dispatcher-only state.
    private Phase phase = Phase.AWAITING_LOAD;
    private LoadedFunction function;
    private CallRunner calls;
    private long jobSeq;
    private Path workDir;

    public Agent(AgentOptions options, InputStream in, OutputStream out) {
        this.options = options;
        this.sink = new FrameSink(out, codec, e -> events.add(new Event.ChannelFailed(e)));
        this.logs = new LogRouter(sink);
        this.reader = new ChannelReader(in, codec, events::add);
        this.readerThread = new Thread(reader, "kiln-channel-reader");
        this.readerThread.setDaemon(true);
        this.functionExecutor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "kiln-function");
            t.setDaemon(true);
            functionThread = t;
            return t;
        });
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "kiln-timer");
            t.setDaemon(true);
            return t;
        });
        // Every call schedules its deadline and almost every call cancels it: without this a
        // cancelled deadline would sit in the queue, holding its job, until it was due.
        timer.setRemoveOnCancelPolicy(true);
        this.timer = timer;
    }

    /** Where log bytes go; {@code Main} points the captured stdout/stderr here. */
    public LogRouter logs() {
        return logs;
    }

    /** Called at the end of every job so its printed output precedes its reply. */
    public void flushLogsWith(Runnable flush) {
        this.flushLogs = flush;
    }

    /** Guest mode: the serial console, for one human-readable line at READY. */
    public void console(PrintStream console) {
        this.console = console;
    }

    /** For the uncaught-exception handler: a fatal error on a thread that is not a job's. */
    public void fatal(Throwable error) {
        reserve = null;
        events.add(new Event.Fatal(error));
    }

    /** Runs until SHUTDOWN, end of channel or a fatal error; returns the exit code. */
    public int run() {
        try {
            // Before READY, hence before the base snapshot: the restore path stays warm.
            restorer = new RestoreRunner(options, Reseeder.prepare(options.guest()));
            sendReady();
            readerThread.start();
            long period = Math.max(10, options.frameTimeout().toMillis() / 4);
            timer.scheduleAtFixedRate(this::checkStall, period, period, TimeUnit.MILLISECONDS);
            while (true) {
                OptionalInt exit = handle(events.take());
                if (exit.isPresent()) {
                    return exit.getAsInt();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ExitCodes.AGENT_BUG;
        } catch (RuntimeException | Error bug) {
            // A broken invariant: say so while the channel still works, then go.
            try {
                sink.send(ErrorReport.of(0, "agent_bug", bug));
            } catch (Throwable ignored) {
                // the exit code tells the rest
            }
            return ExitCodes.AGENT_BUG;
        } finally {
            timer.shutdownNow();
            functionExecutor.shutdownNow();
        }
    }

    /** The temporary directory the function was unpacked into, if the agent created one. */
    public Path workDir() {
        return workDir;
    }

    private void sendReady() {
        long startMs = ProcessHandle.current().info().startInstant()
                .map(t -> Duration.between(t, Instant.now()).toMillis()).orElse(-1L);
        String java = System.getProperty("java.version");
        ObjectNode meta = Json.object()
                .put("protocol", FrameCodec.VERSION)
                .put("agent", AgentVersion.VALUE)
                .put("java", java)
                .put("mode", options.mode())
                .put("pid", ProcessHandle.current().pid())
                .put("startMs", startMs);
        sink.sendSmall(new ReadyFrame(Json.write(meta)));
        if (console != null) {
            console.println("kiln-agent: READY protocol=" + FrameCodec.VERSION + " java=" + java
                    + " in " + startMs + " ms");
            console.flush();
        }
    }

    private void checkStall() {
        long stalled = reader.stalledNanos();
        if (stalled > options.frameTimeout().toNanos()) {
            events.add(new Event.ChannelStalled(stalled / 1_000_000));
        }
    }

    // ---- the dispatcher ------------------------------------------------------------------

    private OptionalInt handle(Event event) {
        if (event instanceof Event.FrameArrived a) {
            return onFrame(a.frame(), a.receivedNanos());
        } else if (event instanceof Event.JobDone d) {
            return onJobDone(d);
        } else if (event instanceof Event.JobOverdue o) {
            return onOverdue(o.seq());
        } else if (event instanceof Event.FrameRejected r) {
            // Skipped already; the channel is in step. Answer and carry on.
            ProtocolException e = r.error();
            send(ErrorReport.of(e.callId(), e.reason().code(), e.getMessage()));
            return OptionalInt.empty();
        } else if (event instanceof Event.ChannelBroken b) {
            ProtocolException e = b.error();
            send(ErrorReport.of(0, e.reason().code(), e.getMessage()));
            return OptionalInt.of(ExitCodes.PROTOCOL);
        } else if (event instanceof Event.ChannelStalled s) {
            send(ErrorReport.of(0, ProtocolException.Reason.TRUNCATED.code(),
                    "a frame stalled for " + s.stalledMs() + " ms before it was complete"));
            return OptionalInt.of(ExitCodes.PROTOCOL);
        } else if (event instanceof Event.ChannelClosed) {
            return OptionalInt.of(ExitCodes.CLEAN);
        } else if (event instanceof Event.ChannelFailed f) {
            // Nobody can be told over a broken channel; the serial console is all there is.
            if (console != null) {
                console.println("kiln-agent: channel failed: " + f.error());
                console.flush();
            }
            return OptionalInt.of(ExitCodes.CHANNEL);
        } else if (event instanceof Event.Fatal f) {
            send(fatalReport(0, f.error()));
            return OptionalInt.of(ExitCodes.FATAL);
        }
        throw new IllegalStateException("unhandled event " + event);
    }

    private OptionalInt onFrame(Frame frame, long receivedNanos) {
        switch (frame.type()) {
            case LOAD -> onLoad((LoadFrame) frame);
            case RESTORED -> onRestored((RestoredFrame) frame, receivedNanos);
            case INVOKE -> onInvoke((InvokeFrame) frame, receivedNanos);
            case SHUTDOWN -> {
                return OptionalInt.of(ExitCodes.CLEAN);
            }
            case ERROR -> {
                // Never answer an error with an error: two endpoints doing so would loop.
            }
            case READY, INITIALIZED, RESULT, LOG -> send(ErrorReport.of(frame.callId(),
                    "unexpected_frame", frame.type() + " is sent by the agent, never to it"));
        }
        return OptionalInt.empty();
    }

    private void onLoad(LoadFrame load) {
        if (phase != Phase.AWAITING_LOAD) {
            send(ErrorReport.of(0, "unexpected_frame", phase == Phase.LOAD_FAILED
                    ? "LOAD after a failed init: replace the instance"
                    : "LOAD when a function is already loaded"));
            return;
        }
        if (active.get() != null) {
            send(ErrorReport.of(0, "busy", "LOAD while a restore is running"));
            return;
        }
        LoadSpec spec;
        try {
            spec = LoadSpec.parse(Json.metadata(load.metadata()));
        } catch (Json.BadMetadataException e) {
            send(ErrorReport.of(0, "bad_metadata", e.getMessage()));
            return;
        }
        try {
            workDir = options.workDir() != null ? options.workDir()
                    : Files.createTempDirectory("kiln-function");
        } catch (IOException e) {
            send(ErrorReport.of(0, "init_failed", "no work directory: " + e, null,
                    Json.object().put("phase", "load"), Frame.NO_BODY));
            phase = Phase.LOAD_FAILED;
            return;
        }
        phase = Phase.LOADING;
        logs.limit(spec.logLimitBytes());
        logs.enter(0, true);
        InitRunner init = new InitRunner(workDir, Agent.class.getClassLoader(),
                new HandlerResolver(Json.MAPPER.getTypeFactory()));
        byte[] jar = load.body();
        start(JobKind.INIT, 0, spec.initTimeoutMs(), () -> initJob(init, spec, jar));
    }

    private JobResult initJob(InitRunner init, LoadSpec spec, byte[] jar) {
        long started = System.nanoTime();
        try {
            LoadedFunction fn = init.init(spec, jar);
            ObjectNode meta = Json.object()
                    .put("initMs", (System.nanoTime() - started) / 1_000_000)
                    .put("handler", spec.handler())
                    .put("style", fn.handler().style().wireName())
                    .put("input", fn.handler().inputType().toCanonical())
                    .put("output", fn.handler().outputType().toCanonical())
                    .put("hooks", Kiln.registered().size() - fn.hooksFrom());
            return new JobResult(new InitializedFrame(Json.write(meta)), fn, false);
        } catch (InitFailure f) {
            ErrorReport.rethrowIfFatal(f.getCause()); // an OOM in a static initialiser
            flushLogs.run(); // the transcript must hold everything printed before the failure
            ObjectNode extra = Json.object().put("phase", f.phase());
            return JobResult.reply(ErrorReport.of(0, "init_failed", f.getMessage(), f.getCause(),
                    extra, logs.transcript()));
        }
    }

    private void onRestored(RestoredFrame restored, long receivedNanos) {
        Job running = active.get();
        if (running != null) {
            send(ErrorReport.of(0, "busy", "RESTORED while a " + running.kind.name().toLowerCase()
                    + " is running"));
            return;
        }
        ObjectNode meta;
        try {
            meta = Json.metadata(restored.metadata());
            byte[] entropy = restored.body();
            if (entropy.length < MIN_ENTROPY) {
                send(ErrorReport.of(0, "bad_restore", "RESTORED carries " + entropy.length
                        + " bytes of entropy, at least " + MIN_ENTROPY + " are needed"));
                return;
            }
            Long epochMs = meta.hasNonNull("epochMs") ? LoadSpec.positive(meta, "epochMs", 0)
                    : null;
            long timeout = LoadSpec.positive(meta, "restoreTimeoutMs", RESTORE_TIMEOUT_MS);
            RestoreRunner runner = restorer;
            int hooksFrom = function != null ? function.hooksFrom()
                    : Kiln.registered().size();
            ClassLoader loader = function != null ? function.loader() : null;
            logs.enter(0, false);
            start(JobKind.RESTORE, 0, timeout, () -> JobResult.reply(
                    runner.restore(entropy, epochMs, receivedNanos, hooksFrom, loader, timeout)));
        } catch (Json.BadMetadataException e) {
            send(ErrorReport.of(0, "bad_metadata", e.getMessage()));
        }
    }

    private void onInvoke(InvokeFrame invoke, long receivedNanos) {
        long id = invoke.callId();
        if (phase != Phase.LOADED) {
            send(ErrorReport.of(id, "not_loaded", switch (phase) {
                case AWAITING_LOAD -> "no function loaded yet";
                case LOADING -> "the function is still initialising";
                default -> "the function failed to initialise";
            }));
            return;
        }
        Job running = active.get();
        if (running != null) {
            send(ErrorReport.of(id, "busy", running.kind != JobKind.CALL
                    ? "a " + running.kind.name().toLowerCase() + " is running"
                    : "call " + Long.toUnsignedString(running.callId)
                    + " is still running; one call at a time"));
            return;
        }
        ObjectNode meta;
        long timeoutMs;
        try {
            meta = Json.metadata(invoke.metadata());
            timeoutMs = LoadSpec.positive(meta, "timeoutMs", function.spec().timeoutMs());
        } catch (Json.BadMetadataException e) {
            send(ErrorReport.of(id, "bad_metadata", e.getMessage()));
            return;
        }
        // The deadline counts from arrival: time queued behind the dispatcher is the caller's.
        long deadline = receivedNanos + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        long left = Math.max(0, deadline - System.nanoTime());
        logs.enter(id, false);
        CallRunner runner = calls;
        start(JobKind.CALL, id, timeoutMs, left,
                () -> JobResult.reply(runner.call(invoke, meta, deadline)));
    }

    private void start(JobKind kind, long callId, long timeoutMs, Callable<JobResult> body) {
        start(kind, callId, timeoutMs, TimeUnit.MILLISECONDS.toNanos(timeoutMs), body);
    }

    /**
     * Runs {@code body} on the function thread with a deadline {@code leftNanos} from now;
     * {@code timeoutMs} is the nominal limit, as the host set it, for the report.
     */
    private void start(JobKind kind, long callId, long timeoutMs, long leftNanos,
                       Callable<JobResult> body) {
        Job job = new Job(++jobSeq, kind, callId, timeoutMs);
        active.set(job);
        job.deadline = timer.schedule(() -> events.add(new Event.JobOverdue(job.seq)),
                leftNanos, TimeUnit.NANOSECONDS);
        job.future = functionExecutor.submit(() -> {
            try {
                runJob(job, body);
            } catch (Throwable t) {
                // submit() would swallow this, leaving the job active and the agent "busy" for
                // good: whatever escapes the job's own reporting (a log flush or the reply
                // itself failing, an OOM) ends the agent the way any fatal error does.
                events.add(new Event.Fatal(t));
            } finally {
                job.ended.countDown();
            }
        });
    }

    /** On the function thread: run, classify what escaped, always report back. */
    private void runJob(Job job, Callable<JobResult> body) {
        long callId = job.callId;
        JobResult result;
        try {
            result = body.call();
        } catch (Throwable t) {
            try {
                if (ErrorReport.isFatal(t)) {
                    reserve = null; // give the report room to be built
                    result = new JobResult(fatalReport(callId, t), null, true);
                } else {
                    result = JobResult.reply(ErrorReport.of(callId, "agent_bug", t));
                }
            } catch (Throwable again) {
                result = new JobResult(new ErrorFrame(callId, OOM_META, Frame.NO_BODY), null,
                        true);
            }
        } finally {
            Thread.interrupted(); // a timeout's interrupt must not leak into the next job
            flushLogs.run();
        }
        if (job.kind == JobKind.CALL && !result.fatal()) {
            finishCall(job, result.reply());
        } else {
            events.add(new Event.JobDone(job.seq, result));
        }
    }

    /**
     * The fast path, on the function thread: a finished call answers for itself instead of
     * waking the dispatcher to do it, one thread hand-off less per call (it matters most in a
     * one-vCPU guest). The order is what makes it safe: the call is marked finished before its
     * answer is written, so the host's next INVOKE, which cannot come before that answer,
     * always finds the agent idle.
     */
    private void finishCall(Job job, Frame reply) {
        job.deadline.cancel(false);
        logs.idle();
        boolean mine = job.answered.compareAndSet(false, true);
        active.compareAndSet(job, null);
        if (mine) {
            send(reply);
        }
    }

    private static ErrorFrame fatalReport(long callId, Throwable t) {
        return ErrorReport.of(callId, "fatal", "the function broke the JVM (" + t
                + "); the agent exits and the instance must be replaced", t, null, Frame.NO_BODY);
    }

    /** Init, restore, and fatal calls finish here, on the dispatcher. */
    private OptionalInt onJobDone(Event.JobDone done) {
        Job job = active.get();
        if (job == null || job.seq != done.seq()) {
            throw new IllegalStateException("job " + done.seq() + " finished but "
                    + (job == null ? "none" : "job " + job.seq) + " was running");
        }
        job.deadline.cancel(false);
        logs.idle();
        JobResult r = done.result();
        boolean mine = job.answered.compareAndSet(false, true);
        if (job.kind == JobKind.INIT) {
            if (mine && r.loaded() != null) {
                function = r.loaded();
                calls = new CallRunner(function, logs, codec.limits().maxBody(FrameType.RESULT));
                phase = Phase.LOADED;
            } else {
                phase = Phase.LOAD_FAILED;
            }
        }
        active.set(null);
        if (mine) {
            send(r.reply());
        } else if (r.fatal()) {
            // The call was already answered (timeout); the exit still needs explaining.
            send(new ErrorFrame(0, r.reply().metadata(), r.reply().body()));
        }
        return r.fatal() ? OptionalInt.of(ExitCodes.FATAL) : OptionalInt.empty();
    }

    private OptionalInt onOverdue(long seq) {
        Job job = active.get();
        if (job == null || job.seq != seq || !job.answered.compareAndSet(false, true)) {
            return OptionalInt.empty(); // finished just in time
        }
        Thread t = functionThread;
        ObjectNode extra = Json.object().put("timeoutMs", job.timeoutMs);
        if (t != null) {
            extra.set("stack", ErrorReport.stackOf(t.getStackTrace()));
        }
        String code = switch (job.kind) {
            case INIT -> "init_timeout";
            case RESTORE -> "restore_timeout";
            case CALL -> "timeout";
        };
        // Ask the code to stop; it may not. Until it does, the agent answers "busy".
        job.future.cancel(true);
        try {
            job.ended.await(INTERRUPT_GRACE_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        send(ErrorReport.of(job.callId, code, job.kind.name().toLowerCase()
                + " did not finish within " + job.timeoutMs + " ms; the host should replace "
                + "this instance", extra));
        if (job.kind == JobKind.INIT) {
            phase = Phase.LOAD_FAILED;
        }
        return OptionalInt.empty();
    }

    /** Sends a reply; an over-cap RESULT becomes an ERROR rather than a broken frame. */
    private void send(Frame frame) {
        try {
            sink.send(frame);
        } catch (ProtocolException e) {
            sink.sendSmall(ErrorReport.of(frame.callId(), frame.type() == FrameType.RESULT
                    ? "result_too_large" : "agent_bug", e.getMessage()));
        }
    }
}
