package io.kiln.function;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An HTTP request as the gateway received it, for functions triggered over HTTP. Declare a
 * handler's input as {@code HttpRequest} to get it instead of a JSON-bound body.
 *
 * <p>Immutable: the body is copied in and out.
 */
public final class HttpRequest {

    private final String method;
    private final String path;
    private final String query;
    private final Headers headers;
    private final byte[] body;

    private HttpRequest(Builder b) {
        this.method = b.method;
        this.path = b.path;
        this.query = b.query;
        this.headers = b.headers.build();
        this.body = b.body;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A request without headers or body. */
    public static HttpRequest of(String method, String path) {
        return builder().method(method).path(path).build();
    }

    public Builder toBuilder() {
        Builder b = new Builder().method(method).path(path).query(query).body(body);
        b.headers = headers.toBuilder();
        return b;
    }

    /** The method in upper case, e.g. {@code GET}. */
    public String method() {
        return method;
    }

    /** The path below the function's route, starting with {@code /}, still percent-encoded. */
    public String path() {
        return path;
    }

    /** The raw query string without {@code ?}; empty when there is none. */
    public String query() {
        return query;
    }

    /** The query decoded as {@code application/x-www-form-urlencoded}, in order, multi-valued. */
    public Map<String, List<String>> queryParameters() {
        Map<String, List<String>> params = new LinkedHashMap<>();
        if (query.isEmpty()) {
            return Map.of();
        }
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            params.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        params.replaceAll((k, v) -> List.copyOf(v));
        return Collections.unmodifiableMap(params);
    }

    /** The first value of one query parameter. */
    public Optional<String> queryParameter(String name) {
        List<String> values = queryParameters().get(name);
        return values == null ? Optional.empty() : Optional.of(values.get(0));
    }

    public Headers headers() {
        return headers;
    }

    /** The first value of one header, any case. */
    public Optional<String> header(String name) {
        return headers.first(name);
    }

    /** A copy of the body; empty, never null. */
    public byte[] body() {
        return body.clone();
    }

    public int bodyLength() {
        return body.length;
    }

    /** The body decoded as UTF-8. */
    public String bodyAsString() {
        return new String(body, StandardCharsets.UTF_8);
    }

    /** The body as a stream, without copying it. */
    public InputStream bodyStream() {
        return new ByteArrayInputStream(body);
    }

    @Override
    public String toString() {
        return method + " " + path + (query.isEmpty() ? "" : "?" + query) + " " + headers
                + " (" + body.length + " body bytes)";
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    /** Collects a request; {@code method} and {@code path} default to {@code GET /}. */
    public static final class Builder {
        private String method = "GET";
        private String path = "/";
        private String query = "";
        private Headers.Builder headers = Headers.builder();
        private byte[] body = new byte[0];

        private Builder() {
        }

        public Builder method(String method) {
            Objects.requireNonNull(method, "method");
            String m = method.toUpperCase(java.util.Locale.ROOT);
            Headers.checkName(m); // a method is an HTTP token, exactly like a header name
            this.method = m;
            return this;
        }

        public Builder path(String path) {
            Objects.requireNonNull(path, "path");
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException("path must start with /: " + path);
            }
            this.path = path;
            return this;
        }

        /** The raw query without {@code ?}; null means none. */
        public Builder query(String query) {
            String q = query == null ? "" : query;
            this.query = q.startsWith("?") ? q.substring(1) : q;
            return this;
        }

        public Builder header(String name, String value) {
            headers.add(name, value);
            return this;
        }

        public Builder headers(Headers all) {
            all.entries().forEach(e -> headers.add(e.getKey(), e.getValue()));
            return this;
        }

        public Builder body(byte[] body) {
            this.body = body == null ? new byte[0] : body.clone();
            return this;
        }

        public Builder body(String utf8) {
            this.body = utf8 == null ? new byte[0] : utf8.getBytes(StandardCharsets.UTF_8);
            return this;
        }

        public HttpRequest build() {
            return new HttpRequest(this);
        }
    }
}
