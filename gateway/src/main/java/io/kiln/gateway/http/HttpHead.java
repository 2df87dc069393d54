package io.kiln.gateway.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.http.HttpServerRequest;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The INVOKE {@code http} metadata of a triggered call (docs/PROTOCOL.md): method, the path
 * below the function's route (still percent-encoded, starting with {@code /}), the raw query
 * without {@code ?}, and the headers as {@code [name, value]} pairs in the order received.
 * Hop-by-hop headers (and any the Connection header names) and Authorization are dropped: they
 * are for the gateway, not the function.
 */
public final class HttpHead {

    static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-authenticate",
            "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade");

    private HttpHead() {
    }

    /**
     * @param rest the path below the function's route, raw; empty means {@code /}
     */
    public static ObjectNode of(HttpServerRequest request, String rest) {
        ObjectNode http = Json.object();
        http.put("method", request.method().name());
        http.put("path", rest.isEmpty() ? "/" : rest);
        String query = request.query();
        http.put("query", query == null ? "" : query);
        Set<String> dropped = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        dropped.addAll(HOP_BY_HOP);
        dropped.add("authorization");
        for (String c : request.headers().getAll("Connection")) {
            for (String token : c.split(",")) {
                dropped.add(token.strip());
            }
        }
        ArrayNode headers = http.putArray("headers");
        for (Map.Entry<String, String> h : request.headers()) {
            if (!dropped.contains(h.getKey())) {
                headers.addArray().add(h.getKey()).add(h.getValue());
            }
        }
        return http;
    }

    /**
     * The path below {@code route} (like {@code /function/hello}) in the raw, still
     * percent-encoded request path: {@code /function/hello/a%20b} gives {@code /a%20b};
     * {@code /function/hello} gives {@code /}. A raw path that does not start with the route
     * (dot segments, an encoded name) falls back to the normalised path the router matched.
     */
    public static String rest(String rawPath, String normalizedPath, String route) {
        for (String p : new String[] {rawPath, normalizedPath}) {
            if (p != null && p.startsWith(route) && (p.length() == route.length() || p.charAt(route.length()) == '/')) {
                String rest = p.substring(route.length());
                return rest.isEmpty() ? "/" : rest;
            }
        }
        return "/";
    }

    /** Whether a response header is the connection's business, not the function's. */
    public static boolean hopByHop(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return HOP_BY_HOP.contains(n) || n.equals("content-length");
    }
}
