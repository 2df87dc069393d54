package io.kiln.gateway.calls;

import io.kiln.gateway.http.Replies;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

/**
 * Sends one ended call's record to a URL: one {@code POST} of its JSON, {@link #TIMEOUT_MS} at
 * most, redirects not followed. Succeeds on a 2xx. Retries are the queue's: a callback is a
 * queue item with its own retry policy, so a receiver that is down gets it later, even after
 * a restart.
 *
 * <p>Every send resolves the URL's host again and checks every address ({@link CallbackTargets}),
 * then connects to the checked address with the URL's own host in the Host header and as the
 * TLS server name: a name that was public when the call was submitted but points inside by now
 * (DNS rebinding) is refused, and no second lookup happens between the check and the connect.
 * (The alternative, a resolver that refuses internal answers inside the HTTP client, would put
 * the rule in every lookup the gateway makes; this keeps it to callbacks.)
 */
public final class Callbacks implements AutoCloseable {

    static final long TIMEOUT_MS = 10_000;

    private final WebClient client;
    private final CallbackTargets targets;

    public Callbacks(Vertx vertx, CallbackTargets targets) {
        this.targets = targets;
        this.client = WebClient.create(vertx, new WebClientOptions().setUserAgent("kiln-gateway")
                .setConnectTimeout((int) TIMEOUT_MS).setFollowRedirects(false));
    }

    public CallbackTargets targets() {
        return targets;
    }

    /**
     * Fails with a message saying what the receiver did (its status, or the connection's error),
     * or with {@link CallbackTargets.Forbidden} when the URL resolves to an internal address now:
     * nothing was sent.
     */
    public Future<Void> send(String url, String callId, byte[] record) {
        Future<CallbackTargets.Target> target;
        try {
            target = targets.check("callback", url);
        } catch (IllegalArgumentException e) {
            return Future.failedFuture(e);
        }
        return target.compose(t -> client.requestAbs(HttpMethod.POST, t.address(), t.url())
                .timeout(TIMEOUT_MS)
                .putHeader("Content-Type", Replies.JSON)
                .putHeader(Replies.CALL_ID, callId)
                .sendBuffer(Buffer.buffer(record))
                .transform(ar -> {
                    if (ar.succeeded() && ar.result().statusCode() / 100 == 2) {
                        return Future.succeededFuture();
                    }
                    String why = ar.succeeded() ? "the receiver answered HTTP " + ar.result().statusCode()
                            : "sending failed: " + ar.cause();
                    return Future.failedFuture(why);
                }), e -> Future.failedFuture(e instanceof CallbackTargets.Forbidden ? e
                        : new RuntimeException("resolving the receiver's address failed: " + e.getMessage(), e)));
    }

    @Override
    public void close() {
        client.close();
    }
}
