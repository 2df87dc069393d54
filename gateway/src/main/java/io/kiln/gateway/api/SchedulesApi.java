package io.kiln.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.gateway.events.Scheduler;
import io.kiln.gateway.http.ApiError;
import io.kiln.gateway.http.Bodies;
import io.kiln.gateway.http.Json;
import io.kiln.gateway.http.Replies;
import io.kiln.invoker.Invoker;
import io.kiln.invoker.call.CallRequest;
import io.kiln.queue.schedule.Firing;
import io.kiln.queue.schedule.MisfirePolicy;
import io.kiln.queue.schedule.OverlapPolicy;
import io.kiln.queue.schedule.Schedule;
import io.kiln.queue.schedule.ScheduleDefinition;
import io.kiln.queue.schedule.ScheduleStore;
import io.kiln.queue.schedule.Shape;
import io.kiln.queue.db.Database;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * Schedules: {@code PUT|GET|DELETE /v1/schedules/{name}} and {@code GET /v1/schedules}. The
 * body is checked here and by {@link io.kiln.queue.schedule.ScheduleSpec#parse} (whose messages
 * reach the user as 400s); every store access runs on the store's threads and is answered on the
 * request's event loop. docs/API.md, "Schedules", is the contract.
 */
public final class SchedulesApi {

    static final int MAX_BODY = 1 << 20;
    static final int DEFAULT_FIRINGS = 20;
    static final int MAX_FIRINGS = 1000;
    private static final Set<String> FIELDS = Set.of("function", "cron", "zone", "rate", "at", "input", "inputBase64",
            "overlap", "misfire", "shape", "enabled");

    private final Vertx vertx;
    private final Scheduler scheduler;
    private final Invoker invoker;

    public SchedulesApi(Vertx vertx, Scheduler scheduler, Invoker invoker) {
        this.vertx = vertx;
        this.scheduler = scheduler;
        this.invoker = invoker;
    }

    /** {@code PUT /v1/schedules/{name}}: creates (201) or replaces (200) the schedule. */
    public void put(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        Context context = vertx.getOrCreateContext();
        Bodies.read(ctx.request(), MAX_BODY, "the schedule").onComplete(body -> {
            try {
                if (body.failed()) {
                    throw body.cause() instanceof ApiError a ? a
                            : ApiError.badRequest("reading the body failed: " + body.cause());
                }
                ScheduleDefinition d = definition(name, body.result().getBytes());
                if (invoker.current(d.function()).isEmpty()) {
                    throw ApiError.notFound("no function named " + d.function());
                }
                ScheduleStore store = scheduler.store();
                store.database().async(() -> store.put(d)).whenComplete((put, e) -> context.runOnContext(v -> {
                    if (e != null) {
                        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                        ctx.fail(cause instanceof IllegalArgumentException i ? ApiError.badRequest(i.getMessage())
                                : cause);
                        return;
                    }
                    scheduler.wake();
                    Replies.json(ctx, put.created() ? 201 : 200, view(put.schedule()));
                }));
            } catch (ApiError e) {
                ctx.fail(e);
            }
        });
    }

    /** {@code GET /v1/schedules}: every schedule, by name. */
    public void list(RoutingContext ctx) {
        ScheduleStore store = scheduler.store();
        answer(store::list, ctx, all -> {
            ObjectNode out = Json.object();
            ArrayNode list = out.putArray("schedules");
            all.forEach(s -> list.add(view(s)));
            return out;
        });
    }

    /** {@code GET /v1/schedules/{name}?firings=N}: the schedule with its last N fire times handled. */
    public void get(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        int limit = firings(ctx.queryParams().get("firings"));
        ScheduleStore store = scheduler.store();
        answer(() -> store.get(name).map(s -> {
            try {
                return withFirings(s, store.firings(name, limit));
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException(e);
            }
        }).orElse(null), ctx, found -> {
            if (found == null) {
                throw ApiError.notFound("no schedule named " + name);
            }
            return found;
        });
    }

    /** {@code DELETE /v1/schedules/{name}}: 204; calls already enqueued still run. */
    public void delete(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        ScheduleStore store = scheduler.store();
        Context context = vertx.getOrCreateContext();
        store.database().async(() -> store.delete(name)).whenComplete((deleted, e) -> context.runOnContext(v -> {
            if (e != null) {
                ctx.fail(e);
            } else if (!deleted) {
                Replies.error(ctx, ApiError.notFound("no schedule named " + name), 0);
            } else {
                scheduler.wake();
                ctx.response().setStatusCode(204).end();
            }
        }));
    }

    // ---- the body ------------------------------------------------------------------------------

    static ScheduleDefinition definition(String name, byte[] body) {
        JsonNode tree;
        try {
            tree = Json.MAPPER.readTree(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw ApiError.badRequest("the body must be a JSON object like {\"function\": \"report\", \"cron\":"
                    + " \"0 9 * * MON-FRI\", \"zone\": \"Europe/Berlin\"}: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiError.badRequest("the body could not be read: " + e.getMessage());
        }
        if (tree == null || !tree.isObject()) {
            throw ApiError.badRequest("the body must be a JSON object like {\"function\": \"report\", \"rate\": \"5m\"}");
        }
        for (Iterator<String> it = tree.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw ApiError.badRequest("unknown field \"" + f + "\"; allowed: " + String.join(", ",
                        new java.util.TreeSet<>(FIELDS)));
            }
        }
        String function = text(tree, "function");
        if (function == null) {
            throw ApiError.badRequest("function: missing; allowed: the name of a deployed function");
        }
        List<String> kinds = new ArrayList<>();
        for (String k : List.of("cron", "rate", "at")) {
            if (tree.has(k)) {
                kinds.add(k);
            }
        }
        if (kinds.size() != 1) {
            throw ApiError.badRequest("give exactly one of cron (with zone), rate or at; got "
                    + (kinds.isEmpty() ? "none" : String.join(" and ", kinds)));
        }
        String kind = kinds.get(0);
        String zone = text(tree, "zone");
        if (kind.equals("rate") && zone != null) {
            throw ApiError.badRequest("zone: a rate does not use a time zone; give zone only with cron or a local at");
        }
        Shape shape;
        try {
            shape = tree.has("shape") ? Shape.of(text(tree, "shape")) : Shape.PLAIN;
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        byte[] input = input(tree);
        if (shape == Shape.EVENTBRIDGE && input.length > 0) {
            throw ApiError.badRequest("input: not used with shape eventbridge, whose input is the ScheduledEvent of"
                    + " each fire time; leave it out");
        }
        boolean enabled = true;
        if (tree.has("enabled")) {
            if (!tree.get("enabled").isBoolean()) {
                throw ApiError.badRequest("enabled: must be true or false");
            }
            enabled = tree.get("enabled").booleanValue();
        }
        try {
            return new ScheduleDefinition(name, function, kind, text(tree, kind), zone, overlap(text(tree, "overlap")),
                    misfire(text(tree, "misfire")), input, shape, enabled);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
    }

    private static String text(JsonNode tree, String field) {
        JsonNode v = tree.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiError.badRequest(field + ": must be a string, got " + v);
        }
        return v.textValue();
    }

    private static byte[] input(JsonNode tree) {
        String text = text(tree, "input");
        String base64 = text(tree, "inputBase64");
        if (text != null && base64 != null) {
            throw ApiError.badRequest("give input or inputBase64, not both");
        }
        if (base64 != null) {
            try {
                return Base64.getDecoder().decode(base64);
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest("inputBase64: not base64: " + e.getMessage());
            }
        }
        return text == null ? new byte[0] : text.getBytes(StandardCharsets.UTF_8);
    }

    static OverlapPolicy overlap(String v) {
        if (v == null) {
            return OverlapPolicy.SKIP;
        }
        return switch (v) {
            case "skip" -> OverlapPolicy.SKIP;
            case "allow" -> OverlapPolicy.ALLOW;
            default -> throw ApiError.badRequest("overlap: \"" + v + "\" is not an overlap policy; allowed: skip"
                    + " (the default), allow");
        };
    }

    static MisfirePolicy misfire(String v) {
        if (v == null) {
            return MisfirePolicy.FIRE_ONCE;
        }
        return switch (v) {
            case "fire-once" -> MisfirePolicy.FIRE_ONCE;
            case "skip" -> MisfirePolicy.SKIP;
            default -> throw ApiError.badRequest("misfire: \"" + v + "\" is not a misfire policy; allowed: fire-once"
                    + " (the default), skip");
        };
    }

    static int firings(String v) {
        if (v == null) {
            return DEFAULT_FIRINGS;
        }
        int n = DeployParams.integer("firings", v);
        if (n < 0 || n > MAX_FIRINGS) {
            throw ApiError.badRequest("firings must be between 0 and " + MAX_FIRINGS + ", got " + n);
        }
        return n;
    }

    // ---- views ---------------------------------------------------------------------------------

    static ObjectNode view(Schedule s) {
        ScheduleDefinition d = s.definition();
        ObjectNode o = Json.object().put("name", d.name()).put("function", d.function()).put(d.kind(), d.value());
        if (d.zone() != null) {
            o.put("zone", d.zone());
        }
        o.put("description", s.spec().describe())
                .put("overlap", d.overlap() == OverlapPolicy.SKIP ? "skip" : "allow")
                .put("misfire", d.misfire() == MisfirePolicy.FIRE_ONCE ? "fire-once" : "skip")
                .put("shape", d.shape().text())
                .put("enabled", d.enabled());
        if (d.shape() == Shape.PLAIN) {
            o.put("inputBase64", Base64.getEncoder().encodeToString(d.input()));
        }
        o.put("createdAt", s.createdAt().toString()).put("updatedAt", s.updatedAt().toString())
                .put("lastScheduled", s.lastScheduled().toString());
        time(o, "nextFireAt", d.enabled() ? s.nextFireAt() : null);
        return o;
    }

    static ObjectNode withFirings(Schedule s, List<Firing> firings) {
        ObjectNode o = view(s);
        ArrayNode list = o.putArray("firings");
        for (Firing f : firings) {
            ObjectNode n = list.addObject().put("fireTime", f.fireTime().toString())
                    .put("firedAt", f.firedAt().toString()).put("node", f.node()).put("outcome", f.outcome().text());
            if (f.callId() != null) {
                n.put("callId", CallRequest.format(f.callId()));
                if (f.callState() != null) {
                    n.put("callState", switch (f.callState()) {
                        case AVAILABLE -> f.callAttempts() > 0 ? "retrying" : "queued";
                        case RUNNING -> "running";
                        case SUCCEEDED -> "succeeded";
                        case DEAD -> "failed";
                        case CANCELLED -> "cancelled";
                    });
                }
            }
            if (f.reason() != null) {
                n.put("reason", f.reason());
            }
        }
        return o;
    }

    private static void time(ObjectNode o, String field, Instant t) {
        if (t == null) {
            o.putNull(field);
        } else {
            o.put(field, t.toString());
        }
    }

    /** Runs {@code read} on the store's threads; answers 200 with {@code then}'s JSON on the request's event loop. */
    private <T> void answer(Database.Blocking<T> read, RoutingContext ctx, Function<T, JsonNode> then) {
        Context context = vertx.getOrCreateContext();
        scheduler.store().database().async(read).whenComplete((t, e) -> context.runOnContext(v -> {
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
