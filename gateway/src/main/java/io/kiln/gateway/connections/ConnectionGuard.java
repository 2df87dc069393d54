package io.kiln.gateway.connections;

import io.kiln.gateway.http.ApiError;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The head, body and idle timeouts of one HTTP/1.1 connection. Two Netty handlers share its
 * state: {@link #wire()} sits before the HTTP decoder and sees every byte that arrives (a head
 * being sent has no message yet); {@link #messages()} sits between the codec and Vert.x and
 * sees the decoded requests going in and the responses going out. Everything runs on the
 * channel's event loop (both handlers and the one timer), so the fields need no locks.
 *
 * <p>The connection is always in one of these states, and each has at most one deadline:
 * <ul>
 * <li>a head is being sent (from the accept, or from the first byte after the previous request
 *     ended): complete by {@code headStartedAt + headerTimeout};
 * <li>a body is being received: a byte at least every {@code bodyTimeout}, counted only while
 *     the gateway reads (a body Vert.x paused for back-pressure is not the client's stall);
 * <li>a request is in flight with its body in (a call running, a follow stream): no deadline;
 * <li>idle, every response sent: closed at {@code idleSince + idleTimeout}.
 * </ul>
 * Reads only move timestamps; the timer, when it fires, computes the deadline again and either
 * acts or sleeps until the new one, so a large upload costs no timer per chunk.
 */
final class ConnectionGuard {

    private static final long NONE = Long.MAX_VALUE;
    private static final ClosedChannelException CLOSED = new ClosedChannelException();

    private final Connections owner;
    private final ConnectionLimits limits;
    private final Channel channel;
    private final Wire wire = new Wire();
    private final Messages messages = new Messages();
    private ChannelHandlerContext wireContext;

    /** When the head being sent began, -1 when none is (a body, a request in flight, idle). */
    private long headStartedAt;
    /** Bytes of that head so far: a client that sent none gets no 408, just the close. */
    private long headBytes;
    /** Between a request's head and its last body chunk, as the decoder delivered them. */
    private boolean inBody;
    private long lastRead;
    /** Requests whose head arrived and whose response has not ended (more than 1 when pipelined). */
    private int pending;
    /** The oldest pending request's response head has been written. */
    private boolean responseStarted;
    /** When the last pending response ended. */
    private long idleSince;
    private boolean closing;
    private ScheduledFuture<?> timer;
    private long timerAt = NONE;

    ConnectionGuard(Connections owner, ConnectionLimits limits, Channel channel) {
        this.owner = owner;
        this.limits = limits;
        this.channel = channel;
        long now = System.nanoTime();
        this.headStartedAt = now; // the first head is timed from the accept, bytes or none
        this.lastRead = now;
        this.idleSince = now;
    }

    ChannelInboundHandlerAdapter wire() {
        return wire;
    }

    ChannelDuplexHandler messages() {
        return messages;
    }

    /** Starts the clock: call once both handlers are in the pipeline, on the event loop. */
    void start() {
        arm();
    }

    /** Raw bytes, before the decoder: they are what proves a client is still sending. */
    private final class Wire extends ChannelInboundHandlerAdapter {
        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            wireContext = ctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (closing) {
                ReferenceCountUtil.release(msg); // answered already: nothing more reaches Vert.x
                return;
            }
            long now = System.nanoTime();
            lastRead = now;
            if (msg instanceof ByteBuf b && b.isReadable()) {
                if (!inBody && headStartedAt < 0) {
                    headStartedAt = now; // the next request's head begins
                    headBytes = 0;
                    arm();
                }
                if (!inBody) {
                    headBytes += b.readableBytes();
                }
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            cancel();
            ctx.fireChannelInactive();
        }
    }

    /** Decoded requests in, responses out. */
    private final class Messages extends ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest) {
                headStartedAt = -1;
                inBody = true;
                pending++;
                lastRead = System.nanoTime();
            }
            if (msg instanceof LastHttpContent) {
                inBody = false;
            }
            arm();
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (closing) {
                // A 408 went out in the response's place: what the handler answers later is dropped.
                ReferenceCountUtil.release(msg);
                if (!promise.isVoid()) {
                    promise.tryFailure(CLOSED);
                }
                return;
            }
            boolean informational = msg instanceof HttpResponse r && r.status().codeClass() == HttpStatusClass.INFORMATIONAL;
            if (informational) {
                lastRead = System.nanoTime(); // 100 Continue: the client starts its body only now
            } else {
                if (msg instanceof HttpResponse) {
                    responseStarted = true;
                }
                if (msg instanceof LastHttpContent && responseStarted) {
                    responseStarted = false;
                    pending = Math.max(0, pending - 1);
                    if (pending == 0) {
                        idleSince = System.nanoTime();
                    }
                    arm();
                }
            }
            ctx.write(msg, promise);
        }

        @Override
        public void read(ChannelHandlerContext ctx) {
            // Reading resumes (after a back-pressure pause, too): silence is counted from now.
            if (inBody) {
                lastRead = System.nanoTime();
            }
            ctx.read();
        }
    }

    // ---- the clock ----------------------------------------------------------------------

    /** The current state's deadline, {@link #NONE} if it has none. */
    private long deadline() {
        if (closing) {
            return NONE;
        }
        if (inBody) {
            return after(lastRead, limits.bodyTimeout());
        }
        if (headStartedAt >= 0) {
            return after(headStartedAt, limits.headerTimeout());
        }
        if (pending > 0) {
            return NONE; // a call running or a response streaming: never idle, however quiet
        }
        return after(idleSince, limits.idleTimeout());
    }

    private static long after(long start, Duration timeout) {
        return timeout.isZero() ? NONE : start + timeout.toNanos();
    }

    /** Makes sure the timer fires no later than the current deadline. */
    private void arm() {
        long d = deadline();
        if (d == NONE || timer != null && timerAt <= d) {
            return; // a later deadline is found again when the earlier timer fires
        }
        cancel();
        timerAt = d;
        timer = channel.eventLoop().schedule(this::fire, Math.max(0, d - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
            timerAt = NONE;
        }
    }

    private void fire() {
        timer = null;
        timerAt = NONE;
        if (!channel.isActive() || closing) {
            return;
        }
        long now = System.nanoTime();
        if (inBody && !channel.config().isAutoRead()) {
            lastRead = now; // Vert.x stopped reading (back-pressure): the client cannot send
            arm();
            return;
        }
        long d = deadline();
        if (d == NONE) {
            return;
        }
        if (now < d) {
            arm();
            return;
        }
        if (inBody) {
            expire(Connections.Reason.BODY_TIMEOUT, pending == 1 && !responseStarted, new ApiError(408,
                    "request_timeout", "the request body stopped arriving: nothing for "
                    + seconds(limits.bodyTimeout()) + " s"));
        } else if (headStartedAt >= 0) {
            expire(Connections.Reason.HEADER_TIMEOUT, headBytes > 0 && pending == 0, new ApiError(408,
                    "request_timeout", "the request head did not arrive within " + seconds(limits.headerTimeout())
                    + " s"));
        } else {
            expire(Connections.Reason.IDLE_TIMEOUT, false, null);
        }
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? Long.toString(d.toSeconds()) : Double.toString(d.toMillis() / 1000.0);
    }

    /**
     * Closes the connection, after a 408 when {@code answer} (no response of the client's is on
     * the way, so the 408 is the one it reads); nothing the handlers write after it goes out.
     */
    private void expire(Connections.Reason reason, boolean answer, ApiError error) {
        closing = true;
        owner.closed(reason);
        if (answer) {
            // Written from before the codec: the response encoder is not in a state to take it.
            wireContext.writeAndFlush(RawAnswer.of(error, owner.node(), Map.of()))
                    .addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }
}
