package io.kiln.gateway.cluster;

import io.kiln.gateway.auth.BearerAuth;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Sends a call to a peer node and says how it went, telling apart the two failures that matter:
 * a peer that could not be reached (nothing was sent, so the call may go to another node) and a
 * peer that failed after the call was sent (it may have run; a synchronous call is not retried).
 */
public final class Forwarder implements AutoCloseable {

    /** The cluster's internal credential: a forwarded call carries it. */
    public static final String INTERNAL = "X-Kiln-Internal";
    /** The node that received the call from its client. */
    public static final String FORWARDED_BY = "X-Kiln-Forwarded-By";
    /** {@code refuse}: answer {@link #ELSEWHERE} instead of queueing when the call cannot start at once. */
    public static final String IF_BUSY = "X-Kiln-If-Busy";
    /** On a forwarded call's answer: this node did not take it (at capacity, draining, not deployed yet). */
    public static final String ELSEWHERE = "X-Kiln-Elsewhere";
    /** The start of an {@link Elsewhere}'s reason when the peer could not be reached. */
    public static final String UNREACHABLE = "unreachable: ";
    /** On every answer: the node that served it. */
    public static final String NODE = "X-Kiln-Node";

    /** Hop-by-hop headers (RFC 9110 7.6.1) and the ones a hop recomputes: never copied across. */
    static final Set<String> HOP = Set.of("connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
            "proxy-connection", "host", "content-length", "expect");

    /** How a forward went. */
    public sealed interface Outcome {
    }

    /** The peer answered the call: relay this. */
    public record Answered(int status, MultiMap headers, Buffer body) implements Outcome {

        /** Answers with it as the peer gave it: its {@link #NODE} header says who served it. */
        public void writeTo(HttpServerResponse response) {
            response.setStatusCode(status);
            for (Map.Entry<String, String> h : headers) {
                if (!HOP.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                    response.headers().remove(h.getKey());
                }
            }
            for (Map.Entry<String, String> h : headers) {
                if (!HOP.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                    response.headers().add(h.getKey(), h.getValue());
                }
            }
            response.end(body);
        }
    }

    /** Nothing ran there: unreachable, or it declined (its reason). Another node may take the call. */
    public record Elsewhere(String why) implements Outcome {
    }

    /** The call was sent and the peer failed before answering: it may have run. */
    public record Failed(String why) implements Outcome {
    }

    private final HttpClient client;
    private final String self;
    private final String secret;
    /** The check of a forwarded call's credential: the token check's, hashed and constant-time. */
    private final BearerAuth internal;

    public Forwarder(Vertx vertx, String self, String secret, int connectTimeoutMs) {
        // A new connection for every forward, on purpose. With pooled keep-alive connections, a
        // call written to a connection whose node had just died fails after it was sent, and
        // cannot be told from a call the node was running when it died: the first must go to the
        // next node, the second must not (it may have run). On a new connection a dead node is a
        // refused connect, nothing was sent, and the call moves on. The price is a connect per
        // forwarded call (docs/BENCHMARKS-NOTES.md, "Several nodes", has it).
        this.client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(connectTimeoutMs)
                .setKeepAlive(false).setMaxPoolSize(256).setDecompressionSupported(false));
        this.self = self;
        this.secret = secret;
        this.internal = new BearerAuth(secret);
    }

    /**
     * Sends {@code method uri} with the client's headers (minus hop-by-hop ones) and the body to
     * the peer at {@code baseUrl}, marked as forwarded by this node; waits at most
     * {@code timeoutMs} for the whole answer.
     */
    public Future<Outcome> forward(String baseUrl, HttpMethod method, String uri, MultiMap headers, Buffer body,
                                   boolean refuseIfBusy, long timeoutMs) {
        RequestOptions options = new RequestOptions().setAbsoluteURI(baseUrl + uri).setMethod(method)
                .setTimeout(Math.max(1, timeoutMs));
        copy(headers, options);
        options.putHeader(INTERNAL, secret).putHeader(FORWARDED_BY, self);
        if (refuseIfBusy) {
            options.putHeader(IF_BUSY, "refuse");
        }
        return client.request(options).transform(connected -> {
            if (connected.failed()) {
                return Future.succeededFuture(new Elsewhere(UNREACHABLE + connected.cause().getMessage()));
            }
            return connected.result().send(body).compose(response -> response.body().map(b -> {
                String elsewhere = response.getHeader(ELSEWHERE);
                return elsewhere != null ? (Outcome) new Elsewhere(elsewhere)
                        : new Answered(response.statusCode(), response.headers(), b);
            })).otherwise(e -> new Failed(e.getMessage() == null ? e.toString() : e.getMessage()));
        });
    }

    /**
     * A streamed GET to a peer (a log follower): each line of its NDJSON answer goes to
     * {@code line} as it arrives, until the stream ends or fails. The future gives a handle that
     * closes the stream.
     */
    public Future<AutoCloseable> stream(String baseUrl, String uri, MultiMap headers,
                                        io.vertx.core.Handler<Buffer> line) {
        RequestOptions options = new RequestOptions().setAbsoluteURI(baseUrl + uri).setMethod(HttpMethod.GET)
                .setIdleTimeout(0);
        copy(headers, options);
        options.putHeader(INTERNAL, secret).putHeader(FORWARDED_BY, self);
        return client.request(options).compose(request -> request.send().map(response -> {
            io.vertx.core.parsetools.RecordParser lines = io.vertx.core.parsetools.RecordParser.newDelimited("\n",
                    line);
            response.handler(lines);
            // A peer that stops or is reset just ends its part of the stream.
            response.exceptionHandler(e -> { });
            return (AutoCloseable) () -> request.reset();
        }));
    }

    private static void copy(MultiMap headers, RequestOptions options) {
        for (Map.Entry<String, String> h : headers) {
            if (!HOP.contains(h.getKey().toLowerCase(Locale.ROOT)) && !h.getKey().regionMatches(true, 0,
                    "X-Kiln-", 0, 7)) {
                options.addHeader(h.getKey(), h.getValue());
            }
        }
    }

    /** Whether {@code value} is the internal credential (in constant time). */
    public boolean authentic(String value) {
        return internal.matches(value);
    }

    @Override
    public void close() {
        client.close();
    }
}
