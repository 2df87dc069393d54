package io.kiln.gateway.calls;

import io.kiln.gateway.http.Replies;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

/**
 * Sends one ended call's record to a URL: one {@code POST} of its JSON, {@link #TIMEOUT_MS} at
 * most, redirects not followed. Succeeds on a 2xx. Retries are the queue's: a callback is a
 * queue item with its own retry policy, so a receiver that is down gets it later, even after
 * a restart.
 */
public final class Callbacks implements AutoCloseable {

    static final long TIMEOUT_MS = 10_000;

    private final WebClient client;

    public Callbacks(Vertx vertx) {
        this.client = WebClient.create(vertx, new WebClientOptions().setUserAgent("kiln-gateway")
                .setConnectTimeout((int) TIMEOUT_MS).setFollowRedirects(false));
    }

    /** Fails with a message saying what the receiver did (its status, or the connection's error). */
    public Future<Void> send(String url, String callId, byte[] record) {
        return client.postAbs(url)
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
                });
    }

    @Override
    public void close() {
        client.close();
    }
}
