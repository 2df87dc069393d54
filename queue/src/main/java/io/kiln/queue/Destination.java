package io.kiln.queue;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * Where an ended event-driven call's record goes: another function (called asynchronously with
 * the record as its input) or a URL (POSTed the record). Both are themselves queue items, so a
 * destination that is down is retried, not lost.
 *
 * <p>Written {@code function:NAME} or {@code https://host/path} ({@code http} too).
 */
public record Destination(Kind kind, String target) {

    public enum Kind { FUNCTION, URL }

    public Destination {
        if (kind == null || target == null) {
            throw new IllegalArgumentException("a destination has a kind and a target");
        }
    }

    /**
     * {@code function:NAME} or an absolute http(s) URL; IllegalArgumentException naming
     * {@code field} else. The name's own rules are the function store's, checked where the
     * policy becomes part of a function's configuration.
     */
    public static Destination parse(String field, String text) {
        String t = text.strip();
        if (t.startsWith("function:")) {
            String name = t.substring("function:".length());
            if (name.isEmpty()) {
                throw new IllegalArgumentException(field + " must name a function after function:");
            }
            return new Destination(Kind.FUNCTION, name);
        }
        try {
            URI u = new URI(t);
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if (u.isAbsolute() && (scheme.equals("http") || scheme.equals("https")) && u.getHost() != null) {
                return new Destination(Kind.URL, t);
            }
        } catch (URISyntaxException e) {
            // falls through to the message below
        }
        throw new IllegalArgumentException(field + " must be function:NAME or an absolute http(s) URL, got \""
                + text + "\"");
    }

    @Override
    public String toString() {
        return kind == Kind.FUNCTION ? "function:" + target : target;
    }
}
