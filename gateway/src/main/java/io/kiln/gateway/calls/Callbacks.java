package io.kiln.gateway.calls;

import io.kiln.gateway.http.Json;
import io.kiln.gateway.http.Replies;
import io.kiln.invoker.call.CallRequest;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

/**
 * Sends an ended async call's record to its callback URL: {@code POST} with the record's JSON,
 * best effort, up to {@link #ATTEMPTS} tries (1 s, then 2 s apart) of {@link #TIMEOUT_MS} each,
 * until one gets a 2xx. Failures are logged, never retried after that.
 */
public final class Callbacks implements AutoCloseable {

    static final int ATTEMPTS = 3;
    static final long TIMEOUT_MS = 10_000;
    private static final System.Logger LOG = System.getLogger(Callbacks.class.getName());

    private final Vertx vertx;
    private final WebClient client;

    public Callbacks(Vertx vertx) {
        this.vertx = vertx;
        this.client = WebClient.create(vertx, new WebClientOptions().setUserAgent("kiln-gateway")
                .setConnectTimeout((int) TIMEOUT_MS).setFollowRedirects(false));
    }

    public void send(CallRecord record) {
        if (record.callback() != null) {
            attempt(record, Json.buffer(record.toJson()), 1);
        }
    }

    private void attempt(CallRecord record, Buffer body, int n) {
        String id = CallRequest.format(record.callId());
        client.postAbs(record.callback())
                .timeout(TIMEOUT_MS)
                .putHeader("Content-Type", Replies.JSON)
                .putHeader(Replies.CALL_ID, id)
                .sendBuffer(body)
                .onComplete(ar -> {
                    String outcome;
                    if (ar.succeeded() && ar.result().statusCode() / 100 == 2) {
                        return;
                    }
                    outcome = ar.succeeded() ? "HTTP " + ar.result().statusCode() : ar.cause().toString();
                    if (n < ATTEMPTS) {
                        vertx.setTimer(1000L << (n - 1), t -> attempt(record, body, n + 1));
                    } else {
                        LOG.log(System.Logger.Level.WARNING, "callback of call " + id + " to " + record.callback()
                                + " failed " + ATTEMPTS + " times, last: " + outcome + "; giving up");
                    }
                });
    }

    @Override
    public void close() {
        client.close();
    }
}
