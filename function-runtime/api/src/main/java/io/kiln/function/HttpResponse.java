package io.kiln.function;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The HTTP response an HTTP-triggered function returns. Return it from a handler to control
 * status and headers; any other return type is sent as a 200 with a body chosen by type.
 *
 * <p>Immutable: the body is copied in and out.
 */
public final class HttpResponse {

    private static final String TEXT = "text/plain; charset=utf-8";
    private static final String JSON = "application/json";

    private final int status;
    private final Headers headers;
    private final byte[] body;

    private HttpResponse(int status, Headers headers, byte[] body) {
        this.status = status;
        this.headers = headers;
        this.body = body;
    }

    /** 200 with a UTF-8 text body. */
    public static HttpResponse ok(String text) {
        return text(200, text);
    }

    /** A UTF-8 text body with {@code Content-Type: text/plain; charset=utf-8}. */
    public static HttpResponse text(int status, String text) {
        return builder(status).header("Content-Type", TEXT).body(text).build();
    }

    /** A body that already is JSON, with {@code Content-Type: application/json}. */
    public static HttpResponse json(int status, String json) {
        return builder(status).header("Content-Type", JSON).body(json).build();
    }

    /** A status without headers or body, e.g. {@code 204}. */
    public static HttpResponse status(int status) {
        return builder(status).build();
    }

    public static Builder builder(int status) {
        return new Builder(status);
    }

    public Builder toBuilder() {
        Builder b = new Builder(status).body(body);
        b.headers = headers.toBuilder();
        return b;
    }

    public int status() {
        return status;
    }

    public Headers headers() {
        return headers;
    }

    /** A copy of the body; empty, never null. */
    public byte[] body() {
        return body.clone();
    }

    public int bodyLength() {
        return body.length;
    }

    public String bodyAsString() {
        return new String(body, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return status + " " + headers + " (" + body.length + " body bytes)";
    }

    /** Collects a response. */
    public static final class Builder {
        private final int status;
        private Headers.Builder headers = Headers.builder();
        private byte[] body = new byte[0];

        private Builder(int status) {
            if (status < 100 || status > 599) {
                throw new IllegalArgumentException("HTTP status out of range 100..599: " + status);
            }
            this.status = status;
        }

        public Builder header(String name, String value) {
            headers.add(name, value);
            return this;
        }

        public Builder headers(Headers all) {
            Objects.requireNonNull(all, "headers");
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

        public HttpResponse build() {
            return new HttpResponse(status, headers.build(), body);
        }
    }
}
