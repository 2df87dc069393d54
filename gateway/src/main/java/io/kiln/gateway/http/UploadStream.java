package io.kiln.gateway.http;

import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * A request body as a blocking {@link InputStream}, for a worker thread, with back-pressure: the
 * request is paused while more than {@link #HIGH_WATER} bytes wait to be read and resumed below
 * {@link #LOW_WATER}, so a 256 MiB upload never sits in memory. Past {@code limit} bytes the
 * reader gets {@link TooLarge}; a client that sends nothing for {@code idle} gets an
 * IOException; so does one that disconnects.
 */
public final class UploadStream extends InputStream {

    static final int HIGH_WATER = 4 << 20;
    static final int LOW_WATER = 1 << 20;

    /** The body passed its limit. */
    public static final class TooLarge extends IOException {
        public TooLarge(String message) {
            super(message);
        }
    }

    private final HttpServerRequest request;
    private final Context context;
    private final long limit;
    private final String what;
    private final long idleNanos;
    private final ArrayDeque<Buffer> chunks = new ArrayDeque<>();
    private Buffer current;
    private int position;
    private long queued;
    private long received;
    private boolean ended;
    private boolean paused;
    private IOException failure;

    /** Call on the request's event loop, from the route's handler, before anything asynchronous. */
    public UploadStream(HttpServerRequest request, Context context, long limit, String what, Duration idle) {
        this.request = request;
        this.context = context;
        this.limit = limit;
        this.what = what;
        this.idleNanos = idle.toNanos();
        request.handler(this::onChunk);
        request.endHandler(v -> onEnd());
        request.exceptionHandler(e -> fail(new IOException("the upload failed: " + e.getMessage(), e)));
        request.response().closeHandler(v -> fail(new IOException("the client closed the connection")));
    }

    /** Whether the client sent the whole body (so the connection can be kept after the answer). */
    public synchronized boolean ended() {
        return ended;
    }

    private void onChunk(Buffer chunk) {
        boolean pause;
        synchronized (this) {
            if (failure != null) {
                return;
            }
            received += chunk.length();
            if (received > limit) {
                failure = new TooLarge(what + " is larger than the limit of " + limit + " bytes");
                chunks.clear();
                notifyAll();
                return;
            }
            chunks.addLast(chunk);
            queued += chunk.length();
            pause = queued > HIGH_WATER && !paused;
            if (pause) {
                paused = true;
            }
            notifyAll();
        }
        if (pause) {
            request.pause();
        }
    }

    private synchronized void onEnd() {
        ended = true;
        notifyAll();
    }

    private synchronized void fail(IOException e) {
        if (!ended && failure == null) {
            failure = e;
            notifyAll();
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        boolean resume = false;
        int n;
        synchronized (this) {
            long deadline = System.nanoTime() + idleNanos;
            while (current == null || position == current.length()) {
                if (failure != null) {
                    throw failure;
                }
                Buffer next = chunks.pollFirst();
                if (next != null) {
                    current = next;
                    position = 0;
                    continue;
                }
                if (ended) {
                    return -1;
                }
                long wait = deadline - System.nanoTime();
                if (wait <= 0) {
                    failure = new IOException("the client sent nothing for " + idleNanos / 1_000_000_000 + " s");
                    throw failure;
                }
                try {
                    wait(Math.max(1, wait / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while reading the upload");
                }
            }
            n = Math.min(len, current.length() - position);
            current.getBytes(position, position + n, b, off);
            position += n;
            queued -= n;
            if (paused && queued < LOW_WATER) {
                paused = false;
                resume = true;
            }
        }
        if (resume) {
            context.runOnContext(v -> request.resume());
        }
        return n;
    }
}
