package io.kiln.gateway.connections;

import io.kiln.gateway.cluster.Forwarder;
import io.kiln.gateway.http.ApiError;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.ReferenceCountUtil;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A connection over its address's cap: answered 503 {@code too_many_connections} at once,
 * before its request is read, and closed. The answer carries {@code X-Kiln-Elsewhere}, so a
 * peer forwarding a call takes it to another node, as it does from a node at capacity.
 *
 * <p>Closed the lingering way, briefly: a client that already sent its request would get a
 * reset (losing the 503) if the gateway closed with those bytes unread. So the gateway sends
 * the 503, shuts its side, drops whatever arrives, and closes when the client does or after
 * {@link #LINGER_MILLIS}, whichever comes first.
 */
final class RefusedConnection extends ChannelInboundHandlerAdapter {

    static final long LINGER_MILLIS = 1_000;
    private static final String NAME = "kiln-refused";

    private RefusedConnection() {
    }

    static void refuse(Channel channel, String node, int cap) {
        channel.pipeline().addFirst(NAME, new RefusedConnection());
        ApiError error = new ApiError(503, "too_many_connections", "this address has " + cap
                + " connections open to this node, the most one client may; close one or try again later",
                null, Duration.ofSeconds(1));
        // Written from the first handler: the response encoder after it takes no raw bytes.
        channel.pipeline().context(NAME).writeAndFlush(RawAnswer.of(error, node, Map.of(Forwarder.ELSEWHERE, "too_many_connections")))
                .addListener(f -> {
                    if (channel instanceof SocketChannel s && s.isActive()) {
                        s.shutdownOutput();
                    }
                });
        channel.eventLoop().schedule(() -> channel.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg); // the request is not served: nothing reaches the decoder
    }
}
