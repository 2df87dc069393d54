package io.kiln.agent.log;

import io.kiln.agent.FrameSink;
import io.kiln.protocol.LogFrame;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns log bytes into LOG frames tagged with the current scope's call id, and enforces the
 * per-scope cap: after {@code limit} bytes, one "log truncated" notice, then silence until the
 * next scope. A scope is a call, the init, a restore, or the idle time between them.
 *
 * <p>Any thread may log (user code spawns threads); lines from other threads during a call are
 * attributed to that call, since nothing better is known.
 */
public final class LogRouter {

    /** Largest LOG body the agent sends: longer lines are split. */
    public static final int CHUNK = 8 * 1024;
    /** Default per-scope cap, overridable per function by LOAD {@code "logLimitBytes"}. */
    public static final long DEFAULT_LIMIT = 1024 * 1024;
    /** Most of the init log kept for the ERROR body if init fails. */
    static final int TRANSCRIPT_CAP = 512 * 1024;

    private static final String NOTICE_META = "{\"stream\":\"kiln\",\"truncated\":true}";

    private final FrameSink sink;
    private long limit = DEFAULT_LIMIT;
    private Scope scope = new Scope(0, DEFAULT_LIMIT, false);

    /** One budget. Guarded by the router's lock. */
    private static final class Scope {
        final long callId;
        long remaining;
        boolean noticeSent;
        final ByteArrayOutputStream transcript;

        Scope(long callId, long limit, boolean keepTranscript) {
            this.callId = callId;
            this.remaining = limit;
            this.transcript = keepTranscript ? new ByteArrayOutputStream() : null;
        }
    }

    public LogRouter(FrameSink sink) {
        this.sink = sink;
    }

    /** Sets the per-scope cap for scopes entered from now on. */
    public synchronized void limit(long bytes) {
        this.limit = bytes;
    }

    /**
     * Starts a new scope with a fresh budget.
     *
     * @param keepTranscript keep a copy of what is sent (the init log, for the ERROR body)
     */
    public synchronized void enter(long callId, boolean keepTranscript) {
        scope = new Scope(callId, limit, keepTranscript);
    }

    /** Back to idle: logs between calls go out with call id 0 and their own budget. */
    public synchronized void idle() {
        scope = new Scope(0, limit, false);
    }

    /** What the current scope sent so far, if it keeps a transcript; empty otherwise. */
    public synchronized byte[] transcript() {
        return scope.transcript == null ? new byte[0] : scope.transcript.toByteArray();
    }

    /** Logs one message from a logger as one line (a newline is added if missing). */
    public void line(String stream, String message) {
        String text = message.endsWith("\n") ? message : message + "\n";
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        emit(stream, bytes, 0, bytes.length);
    }

    /** Sends bytes as LOG frames of at most {@link #CHUNK}, within the scope's budget. */
    public synchronized void emit(String stream, byte[] b, int off, int len) {
        Scope s = scope;
        int allowed = (int) Math.min(len, Math.max(0, s.remaining));
        String meta = "{\"stream\":\"" + stream + "\"}";
        for (int sent = 0; sent < allowed; sent += CHUNK) {
            int n = Math.min(CHUNK, allowed - sent);
            byte[] chunk = Arrays.copyOfRange(b, off + sent, off + sent + n);
            sink.sendSmall(new LogFrame(s.callId, meta, chunk));
            if (s.transcript != null && s.transcript.size() < TRANSCRIPT_CAP) {
                s.transcript.write(chunk, 0, Math.min(n, TRANSCRIPT_CAP - s.transcript.size()));
            }
        }
        s.remaining -= allowed;
        if (allowed < len && !s.noticeSent) {
            s.noticeSent = true;
            String notice = "kiln: log truncated after " + limit + " bytes\n";
            sink.sendSmall(new LogFrame(s.callId, NOTICE_META,
                    notice.getBytes(StandardCharsets.UTF_8)));
            if (s.transcript != null) {
                s.transcript.writeBytes(notice.getBytes(StandardCharsets.UTF_8));
            }
        }
    }
}
