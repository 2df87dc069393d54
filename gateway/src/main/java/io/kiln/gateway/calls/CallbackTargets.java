package io.kiln.gateway.calls;

import io.netty.util.NetUtil;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.impl.VertxInternal;
import io.vertx.core.net.SocketAddress;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;

/**
 * Decides where a callback may go: its URL's host is resolved (Vert.x's resolver, never blocking
 * an event loop) and every address it resolves to must be public, or inside the operator's
 * allow-list ({@code --callback-allow}). One internal address refuses the whole URL: a name
 * with a public and a private address would otherwise reach the private one at random.
 *
 * <p>Checked twice: when a URL is accepted (a clear 400 for the caller) and again right before
 * each send, because a name can resolve differently by then (DNS rebinding). The send then
 * connects to the address that was checked, not to the name again.
 */
public final class CallbackTargets {

    /** Where one send goes: the URL (its Host header and TLS name) and the checked address to connect to. */
    public record Target(String url, SocketAddress address) {
    }

    /** A callback URL that resolves to an address the gateway does not send to. */
    public static final class Forbidden extends RuntimeException {
        public Forbidden(String message) {
            super(message, null, false, false);
        }
    }

    private final Vertx vertx;
    private final List<Cidr> allow;

    /** @param allow ranges callbacks may reach even though they are internal; empty for none */
    public CallbackTargets(Vertx vertx, List<Cidr> allow) {
        this.vertx = vertx;
        this.allow = List.copyOf(allow);
    }

    public List<Cidr> allow() {
        return allow;
    }

    /**
     * Resolves {@code url}'s host and checks every address. Fails with {@link Forbidden} (naming
     * the address, why, and the flag that opens it) or, when the name does not resolve, with the
     * resolver's error; IllegalArgumentException (thrown) for a URL that is not absolute http(s).
     */
    public Future<Target> check(String field, String url) {
        URI u = parse(field, url);
        String host = u.getHost();
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        int port = u.getPort() >= 0 ? u.getPort() : u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
        Future<List<InetAddress>> addresses;
        byte[] literal = NetUtil.createByteArrayFromIpAddressString(bare);
        if (literal != null) {
            try {
                addresses = Future.succeededFuture(List.of(InetAddress.getByAddress(literal)));
            } catch (java.net.UnknownHostException e) {
                throw new IllegalStateException(e); // 4 or 16 bytes: cannot happen
            }
        } else {
            Promise<List<InetSocketAddress>> resolved = Promise.promise();
            ((VertxInternal) vertx).addressResolver().resolveHostnameAll(bare, resolved);
            addresses = resolved.future().map(list -> list.stream().map(InetSocketAddress::getAddress).toList());
        }
        return addresses.compose(list -> {
            if (list.isEmpty()) {
                return Future.failedFuture(new java.net.UnknownHostException(bare + " has no addresses"));
            }
            for (InetAddress a : list) {
                String why = refused(a);
                if (why != null) {
                    String shown = NetUtil.toAddressString(a);
                    return Future.failedFuture(new Forbidden(field + " " + url + (literal != null ? " is "
                            : " resolves to ") + shown + ", which is " + why + "; the gateway does not send"
                            + " callbacks into internal networks. An operator can open it with --callback-allow "
                            + shown + (a.getAddress().length == 4 ? "/32" : "/128") + " (or its range)"));
                }
            }
            return Future.succeededFuture(new Target(url,
                    SocketAddress.inetSocketAddress(port, NetUtil.toAddressString(list.get(0)))));
        });
    }

    /** Why {@code address} is refused, or null: internal and not in the allow-list. */
    String refused(InetAddress address) {
        for (Cidr c : allow) {
            if (c.contains(address)) {
                return null;
            }
        }
        return InternalAddresses.why(address);
    }

    /** An absolute http(s) URL with a host; IllegalArgumentException naming {@code field} else. */
    static URI parse(String field, String url) {
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(field + " is not a URL: " + e.getMessage());
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!u.isAbsolute() || !(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null) {
            throw new IllegalArgumentException(field + " must be an absolute http or https URL with a host, got \""
                    + url + "\"");
        }
        return u;
    }
}
