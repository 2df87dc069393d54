package io.kiln.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.gateway.events.CallView;
import io.kiln.gateway.events.EventQueue;
import io.kiln.gateway.http.ApiError;
import io.kiln.gateway.http.Bodies;
import io.kiln.gateway.http.Json;
import io.kiln.gateway.http.Replies;
import io.kiln.invoker.call.CallRequest;
import io.kiln.queue.QueueItem;
import io.kiln.queue.QueueStore;
import io.kiln.queue.db.Database;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Queued calls and dead letters: {@code GET /v1/calls/{id}},
 * {@code GET /v1/functions/{name}/dead-letters} and
 * {@code POST /v1/functions/{name}/dead-letters/redrive}. Every read runs on the queue store's
 * threads and is answered on the request's event loop.
 */
public final class CallsApi {

    static final int MAX_DEAD_LETTERS = 1000;

    private final Vertx vertx;
    private final EventQueue queue;

    public CallsApi(Vertx vertx, EventQueue queue) {
        this.vertx = vertx;
        this.queue = queue;
    }

    /** {@code GET /v1/calls/{id}}: the call with its attempts. */
    public void status(RoutingContext ctx) {
        long id;
        try {
            id = CallRequest.parse(ctx.pathParam("id"));
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        QueueStore store = queue.store();
        answer(() -> {
            QueueItem item = store.get(id);
            return item == null || item.kind() != QueueItem.Kind.CALL ? null
                    : CallView.of(item, store.attempts(id), false);
        }, ctx, found -> {
            if (found == null) {
                throw ApiError.notFound("no call " + CallRequest.format(id) + " (unknown, or its record is past the"
                        + " queue's retention)");
            }
            return found;
        });
    }

    /** {@code GET /v1/functions/{name}/dead-letters?limit=N}: oldest first, with input and attempts. */
    public void deadLetters(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        int limit = limit(ctx.queryParams().get("limit"));
        QueueStore store = queue.store();
        answer(() -> {
            ObjectNode out = Json.object().put("function", name);
            ArrayNode list = out.putArray("deadLetters");
            for (QueueItem i : store.deadLetters(name, limit)) {
                list.add(CallView.of(i, store.attempts(i.id()), true));
            }
            return out;
        }, ctx, o -> o);
    }

    /**
     * {@code POST /v1/functions/{name}/dead-letters/redrive}: all of the function's dead letters,
     * or those a body {@code {"callIds": [...]}} names, go back in the queue with fresh attempts.
     */
    public void redrive(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        Context context = vertx.getOrCreateContext();
        Bodies.read(ctx.request(), 1 << 20, "the redrive request").onComplete(body -> {
            try {
                List<Long> ids = ids(body.succeeded() ? body.result().getBytes() : null, body.cause());
                queue.store().database().async(() -> queue.store().redrive(name, ids))
                        .whenComplete((n, e) -> context.runOnContext(x -> {
                            if (e != null) {
                                ctx.fail(e);
                            } else {
                                Replies.json(ctx, 200, Json.object().put("function", name).put("redriven", n));
                            }
                        }));
            } catch (ApiError e) {
                ctx.fail(e);
            }
        });
    }

    private static List<Long> ids(byte[] body, Throwable failed) {
        if (failed != null) {
            throw failed instanceof ApiError a ? a : ApiError.badRequest("reading the body failed: " + failed);
        }
        if (body == null || body.length == 0) {
            return null;
        }
        JsonNode tree;
        try {
            tree = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            throw ApiError.badRequest("the body must be JSON like {\"callIds\": [\"...\"]}, or empty for all");
        }
        JsonNode callIds = tree == null ? null : tree.get("callIds");
        if (callIds == null || !callIds.isArray()) {
            throw ApiError.badRequest("the body must be JSON like {\"callIds\": [\"...\"]}, or empty for all");
        }
        List<Long> ids = new ArrayList<>();
        for (JsonNode n : callIds) {
            try {
                ids.add(CallRequest.parse(n.asText()));
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest(e.getMessage());
            }
        }
        return ids;
    }

    static int limit(String v) {
        if (v == null) {
            return 100;
        }
        int n = DeployParams.integer("limit", v);
        if (n < 1 || n > MAX_DEAD_LETTERS) {
            throw ApiError.badRequest("limit must be between 1 and " + MAX_DEAD_LETTERS + ", got " + n);
        }
        return n;
    }

    /** Runs {@code read} on the store's threads; answers 200 with {@code then}'s JSON on the request's event loop. */
    private <T> void answer(Database.Blocking<T> read, RoutingContext ctx, Function<T, JsonNode> then) {
        Context context = vertx.getOrCreateContext();
        queue.store().database().async(read).whenComplete((t, e) -> context.runOnContext(v -> {
            if (e != null) {
                ctx.fail(e);
                return;
            }
            try {
                Replies.json(ctx, 200, then.apply(t));
            } catch (ApiError a) {
                Replies.error(ctx, a, 0);
            }
        }));
    }
}
