package io.kiln.gateway.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.invoker.call.CallRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

import java.util.Iterator;
import java.util.Map;

/** Writing answers: JSON bodies and the one error shape. */
public final class Replies {

    public static final String JSON = "application/json";
    public static final String NDJSON = "application/x-ndjson";
    public static final String CALL_ID = "X-Kiln-Call-Id";

    private Replies() {
    }

    public static void json(RoutingContext ctx, int status, JsonNode body) {
        HttpServerResponse r = ctx.response();
        if (r.ended() || r.closed()) {
            return;
        }
        r.setStatusCode(status).putHeader("Content-Type", JSON).end(Json.buffer(body));
    }

    /** The error object: {@code {"code","message","callId"?,...extra}}. */
    public static ObjectNode errorObject(ApiError e, long callId) {
        ObjectNode error = Json.object().put("code", e.code()).put("message", e.getMessage());
        if (callId != 0) {
            error.put("callId", CallRequest.format(callId));
        }
        if (e.extra() != null) {
            for (Iterator<Map.Entry<String, JsonNode>> it = e.extra().fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                error.set(f.getKey(), f.getValue());
            }
        }
        return error;
    }

    /**
     * {@link #error}, then closes the connection the lingering way ({@link LingeringClose}): for
     * answers given before the request's body was read (413 and the like), which leave the
     * connection unable to carry another request.
     */
    public static void errorAndClose(RoutingContext ctx, ApiError e, long callId) {
        LingeringClose.afterResponse(ctx);
        error(ctx, e, callId);
    }

    /**
     * Writes {@code {"error":{...}}} with the error's status and Retry-After, and the call id
     * header when there is a call. Nothing if the response was already sent.
     */
    public static void error(RoutingContext ctx, ApiError e, long callId) {
        HttpServerResponse r = ctx.response();
        if (r.ended() || r.closed() || r.headWritten()) {
            return;
        }
        if (callId != 0) {
            r.putHeader(CALL_ID, CallRequest.format(callId));
        }
        if (e.retryAfter() != null) {
            r.putHeader("Retry-After", Long.toString(Math.max(1, (e.retryAfter().toMillis() + 999) / 1000)));
        }
        if (e.status() == 401) {
            r.putHeader("WWW-Authenticate", "Bearer realm=\"kiln\"");
        }
        json(ctx, e.status(), Json.object().set("error", errorObject(e, callId)));
    }
}
