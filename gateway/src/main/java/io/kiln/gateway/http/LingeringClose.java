package io.kiln.gateway.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * Closing a connection whose request body was not read to its end (a 413, a refused upload).
 *
 * <p>Closing at once is wrong: the client is still sending, the kernel answers its next segment
 * with a reset, and a reset makes the client's TCP stack throw away the answer it has not read
 * yet. The client then sees "connection reset" or "no bytes" instead of the 413 that explains
 * what happened. So, like Apache's and nginx's lingering close, the server first answers, then
 * reads and drops what the client still sends, and closes when the client has sent its whole
 * request, or after {@link #MAX_BYTES} dropped bytes or {@link #MAX_MILLIS}, whichever comes
 * first: a client can keep the connection only that much longer.
 */
public final class LingeringClose {

    /** At most this many bytes are read and dropped after the answer. */
    public static final long MAX_BYTES = 64L << 20;
    /** At most this long after the answer the connection is closed, whatever the client still sends. */
    public static final long MAX_MILLIS = 5_000;

    private LingeringClose() {
    }

    /**
     * Marks the answer {@code Connection: close} (if its head is not written yet) and, once it
     * has been sent, drains the rest of the request's body within the bounds, then closes.
     * Call on the request's event loop.
     */
    public static void afterResponse(RoutingContext ctx) {
        if (!ctx.response().headWritten()) {
            ctx.response().putHeader("Connection", "close");
        }
        ctx.addEndHandler(v -> drainThenClose(ctx.vertx(), ctx.request()));
    }

    /** Reads and drops the rest of {@code request}'s body, within the bounds, then closes its connection. */
    static void drainThenClose(Vertx vertx, HttpServerRequest request) {
        HttpConnection connection = request.connection();
        if (request.isEnded()) {
            connection.close();
            return;
        }
        long[] dropped = {0};
        long timer = vertx.setTimer(MAX_MILLIS, id -> connection.close());
        Runnable close = () -> {
            vertx.cancelTimer(timer);
            connection.close();
        };
        request.handler(chunk -> {
            dropped[0] += chunk.length();
            if (dropped[0] > MAX_BYTES) {
                close.run();
            }
        });
        request.endHandler(v -> close.run());
        request.exceptionHandler(e -> close.run());
        request.resume(); // an upload paused for back-pressure would otherwise never end
    }
}
