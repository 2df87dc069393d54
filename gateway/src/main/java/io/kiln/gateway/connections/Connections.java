package io.kiln.gateway.connections;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Every HTTP connection the gateway accepts passes here first ({@link #accept}, the servers'
 * connection handler, on the connection's event loop): over the per-address cap it is refused
 * ({@link RefusedConnection}); otherwise a {@link ConnectionGuard} times its heads, bodies and
 * idle spells. Shared by all the event loops' servers: the counts per address are a concurrent
 * map. Meters: {@code kiln_connections_open} and {@code kiln_connections_closed_total{reason}}.
 *
 * <p>Needs Vert.x's HTTP/1.x pipeline configured at accept, so the servers must not take
 * cleartext HTTP/2 (with h2c on, Vert.x waits for a first byte before it even reports the
 * connection, and a silent one would never be seen).
 */
public final class Connections {

    /** Why the gateway closed a connection itself; the metric's {@code reason} label. */
    public enum Reason {
        HEADER_TIMEOUT, BODY_TIMEOUT, IDLE_TIMEOUT, TOO_MANY_CONNECTIONS;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Vert.x's names for its HTTP/1.x handlers, around which the guard's two go. */
    static final String DECODER = "httpDecoder";
    static final String VERTX_HANDLER = "handler";

    private final ConnectionLimits limits;
    private final String node;
    private final Map<InetAddress, AtomicInteger> perAddress = new ConcurrentHashMap<>();
    private final AtomicInteger open = new AtomicInteger();
    private final Map<Reason, Counter> closed = new EnumMap<>(Reason.class);

    public Connections(ConnectionLimits limits, String node, MeterRegistry registry) {
        this.limits = limits;
        this.node = node;
        for (Reason r : Reason.values()) {
            closed.put(r, Counter.builder("kiln.connections.closed")
                    .description("HTTP connections the gateway closed itself (a timeout, or over the per-client cap)")
                    .tag("reason", r.label()).register(registry));
        }
        Gauge.builder("kiln.connections.open", open, AtomicInteger::get)
                .description("HTTP connections open (refused ones not counted)").register(registry);
    }

    public ConnectionLimits limits() {
        return limits;
    }

    String node() {
        return node;
    }

    /** Open connections from {@code address}, as the cap counts them. */
    public int open(InetAddress address) {
        AtomicInteger n = perAddress.get(address);
        return n == null ? 0 : n.get();
    }

    /** Open connections, all addresses. */
    public int open() {
        return open.get();
    }

    /** How many connections were closed for {@code reason} since the start. */
    public long closedCount(Reason reason) {
        return (long) closed.get(reason).count();
    }

    void closed(Reason reason) {
        closed.get(reason).increment();
    }

    /** The servers' connection handler. */
    public void accept(HttpConnection connection) {
        // Vert.x's every HTTP connection is a ConnectionBase; its channel is the only way to the
        // bytes before the decoder (a head being sent) and to the moment a response ends.
        Channel channel = ((ConnectionBase) connection).channel();
        InetAddress address = ((InetSocketAddress) channel.remoteAddress()).getAddress();
        if (!take(address)) {
            closed(Reason.TOO_MANY_CONNECTIONS);
            RefusedConnection.refuse(channel, node, limits.maxPerClient());
            return;
        }
        open.incrementAndGet();
        channel.closeFuture().addListener(f -> {
            open.decrementAndGet();
            release(address);
        });
        ChannelPipeline pipeline = channel.pipeline();
        if (pipeline.get(DECODER) == null || pipeline.get(VERTX_HANDLER) == null) {
            // A Vert.x whose pipeline is not as expected: refuse to serve unguarded.
            channel.close();
            throw new IllegalStateException("the HTTP pipeline has no " + DECODER + " or " + VERTX_HANDLER
                    + " handler: " + pipeline.names());
        }
        ConnectionGuard guard = new ConnectionGuard(this, limits, channel);
        pipeline.addBefore(DECODER, "kiln-wire", guard.wire());
        pipeline.addBefore(VERTX_HANDLER, "kiln-messages", guard.messages());
        guard.start();
    }

    /** Counts a connection from {@code address} in, unless it has its {@link ConnectionLimits#maxPerClient}. */
    private boolean take(InetAddress address) {
        int cap = limits.maxPerClient();
        boolean[] taken = {false};
        perAddress.compute(address, (a, n) -> {
            AtomicInteger count = n == null ? new AtomicInteger() : n;
            if (cap == 0 || count.get() < cap) {
                count.incrementAndGet();
                taken[0] = true;
            }
            return count.get() == 0 ? null : count;
        });
        return taken[0];
    }

    private void release(InetAddress address) {
        perAddress.computeIfPresent(address, (a, n) -> n.decrementAndGet() == 0 ? null : n);
    }
}
