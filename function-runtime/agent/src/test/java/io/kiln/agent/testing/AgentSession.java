package io.kiln.agent.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.agent.Json;
import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.FrameType;
import io.kiln.protocol.InvokeFrame;
import io.kiln.protocol.LoadFrame;
import io.kiln.protocol.LogFrame;
import io.kiln.protocol.ReadyFrame;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The host side of one agent, for tests: writes frames with kiln-protocol, reads the agent's
 * frames on a thread, keeps LOG frames aside. Subclasses connect it to a process or to an
 * in-process agent.
 */
public abstract class AgentSession implements AutoCloseable {

    /** Generous: a 2-core machine running a cold JVM per test. */
    public static final Duration WAIT = Duration.ofSeconds(30);

    /** What the reader thread saw at the end of the agent's stream. */
    private record End(Exception error) {
    }

    protected final FrameCodec codec = new FrameCodec();
    private final BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    private final List<LogFrame> logs = new CopyOnWriteArrayList<>();
    private OutputStream toAgent;
    private volatile boolean ended;

    protected final void connect(OutputStream toAgent, InputStream fromAgent, String name) {
        this.toAgent = toAgent;
        Thread t = new Thread(() -> {
            try {
                while (true) {
                    inbox.add(codec.read(fromAgent));
                }
            } catch (EOFException e) {
                inbox.add(new End(null));
            } catch (IOException e) {
                inbox.add(new End(e));
            }
        }, name + "-reader");
        t.setDaemon(true);
        t.start();
    }

    /** Waits for the agent's exit code. */
    public abstract int exitCode();

    /** Ends the agent (a process is destroyed; an in-process agent sees end of stream). */
    @Override
    public abstract void close();

    public void send(Frame frame) {
        try {
            codec.write(toAgent, frame);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes bytes as they are: for hostile frames. */
    public void sendRaw(byte[] bytes) {
        try {
            toAgent.write(bytes);
            toAgent.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Closes the host-to-agent direction: the agent sees end of stream. */
    public void closeInput() {
        try {
            toAgent.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The next frame of any type, or null if the agent closed its side. */
    public Frame next() {
        return next(WAIT);
    }

    public Frame next(Duration wait) {
        if (ended) {
            return null;
        }
        Object o;
        try {
            o = inbox.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        if (o == null) {
            throw new AssertionError("no frame from the agent within " + wait + diagnostics());
        }
        if (o instanceof End end) {
            ended = true;
            if (end.error() != null) {
                throw new AssertionError("the agent sent something unreadable: " + end.error()
                        + diagnostics(), end.error());
            }
            return null;
        }
        return (Frame) o;
    }

    /** The next frame that is not a LOG (those are kept for {@link #logs}). */
    public Frame reply() {
        while (true) {
            Frame f = next();
            if (f == null) {
                throw new AssertionError("the agent closed the channel" + diagnostics());
            }
            if (f instanceof LogFrame log) {
                logs.add(log);
            } else {
                return f;
            }
        }
    }

    /** The next non-LOG frame, which must be of this type. */
    public <T extends Frame> T reply(Class<T> type) {
        Frame f = reply();
        if (!type.isInstance(f)) {
            throw new AssertionError("expected " + type.getSimpleName() + " but got " + f
                    + diagnostics());
        }
        return type.cast(f);
    }

    /** Reads until the agent closes its side; returns the non-LOG frames seen. */
    public List<Frame> drain() {
        List<Frame> seen = new java.util.ArrayList<>();
        for (Frame f = next(); f != null; f = next()) {
            if (f instanceof LogFrame log) {
                logs.add(log);
            } else {
                seen.add(f);
            }
        }
        return seen;
    }

    public ReadyFrame ready() {
        return reply(ReadyFrame.class);
    }

    /** Sends READY's follow-up LOAD and returns the agent's answer (INITIALIZED or ERROR). */
    public Frame load(byte[] jar, String handler) {
        return load(jar, Json.object().put("handler", handler).put("function", "fn")
                .put("version", "7"));
    }

    public Frame load(byte[] jar, ObjectNode meta) {
        send(new LoadFrame(Json.write(meta), jar));
        return reply();
    }

    /** One call with a UTF-8 body and no metadata; returns RESULT or ERROR. */
    public Frame invoke(long callId, String body) {
        return invoke(callId, "", body.getBytes(StandardCharsets.UTF_8));
    }

    public Frame invoke(long callId, String metadata, byte[] body) {
        send(new InvokeFrame(callId, metadata, body));
        return reply();
    }

    /** Every LOG frame received so far. */
    public List<LogFrame> logs() {
        return List.copyOf(logs);
    }

    /** The LOG bodies of one call and stream, concatenated. */
    public String log(long callId, String stream) {
        StringBuilder sb = new StringBuilder();
        for (LogFrame l : logs) {
            if (l.callId() == callId && stream.equals(meta(l).path("stream").asText())) {
                sb.append(new String(l.body(), StandardCharsets.UTF_8));
            }
        }
        return sb.toString();
    }

    protected String diagnostics() {
        return "";
    }

    public static JsonNode meta(Frame f) {
        return Json.metadata(f.metadata());
    }

    public static String text(Frame f) {
        return new String(f.body(), StandardCharsets.UTF_8);
    }

    /** Asserts a frame's type and call id, with the frame in the message. */
    public static <T extends Frame> T expect(Frame f, Class<T> type, long callId) {
        if (!type.isInstance(f) || f.callId() != callId) {
            throw new AssertionError("expected " + type.getSimpleName() + " for call " + callId
                    + " but got " + f);
        }
        return type.cast(f);
    }

    public static boolean isType(Frame f, FrameType t) {
        return f != null && f.type() == t;
    }
}
