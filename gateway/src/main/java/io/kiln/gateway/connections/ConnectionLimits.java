package io.kiln.gateway.connections;

import java.time.Duration;

/**
 * What the gateway allows one HTTP connection, against clients that open connections and then
 * send slowly or not at all (each held connection is a file descriptor). {@link Duration#ZERO}
 * turns a timeout off; a {@code maxPerClient} of 0 turns the cap off.
 *
 * @param headerTimeout a request head must be complete this long after the connection was
 *                      accepted, or after its first byte arrived on a kept-alive connection;
 *                      else 408 (when some of a head came) and the connection is closed
 * @param bodyTimeout   a request body that brings no byte for this long while the gateway is
 *                      reading it is answered 408 (if its answer has not started) and closed;
 *                      a body that keeps moving, however slowly, is never cut
 * @param idleTimeout   a kept-alive connection with no request on it is closed after this long;
 *                      one with a call running or a response streaming is not idle
 * @param maxPerClient  open connections from one remote IP address; more are answered 503
 *                      {@code too_many_connections} and closed
 */
public record ConnectionLimits(Duration headerTimeout, Duration bodyTimeout, Duration idleTimeout, int maxPerClient) {

    /** The defaults: 10 s for a head, 30 s of silence in a body, 75 s idle, 256 connections per address. */
    public static final ConnectionLimits DEFAULTS = new ConnectionLimits(Duration.ofSeconds(10),
            Duration.ofSeconds(30), Duration.ofSeconds(75), 256);

    public ConnectionLimits {
        check("headerTimeout", headerTimeout);
        check("bodyTimeout", bodyTimeout);
        check("idleTimeout", idleTimeout);
        if (maxPerClient < 0) {
            throw new IllegalArgumentException("maxPerClient must be 0 (no cap) or more, got " + maxPerClient);
        }
    }

    private static void check(String name, Duration d) {
        if (d == null || d.isNegative()) {
            throw new IllegalArgumentException(name + " must be 0 (off) or more, got " + d);
        }
    }

    public ConnectionLimits withHeaderTimeout(Duration d) {
        return new ConnectionLimits(d, bodyTimeout, idleTimeout, maxPerClient);
    }

    public ConnectionLimits withBodyTimeout(Duration d) {
        return new ConnectionLimits(headerTimeout, d, idleTimeout, maxPerClient);
    }

    public ConnectionLimits withIdleTimeout(Duration d) {
        return new ConnectionLimits(headerTimeout, bodyTimeout, d, maxPerClient);
    }

    public ConnectionLimits withMaxPerClient(int n) {
        return new ConnectionLimits(headerTimeout, bodyTimeout, idleTimeout, n);
    }
}
