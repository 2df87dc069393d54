package io.kiln.gateway.topics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.gateway.api.DeployParams;
import io.kiln.gateway.events.EventQueue;
import io.kiln.gateway.http.ApiError;
import io.kiln.gateway.http.Bodies;
import io.kiln.gateway.http.Json;
import io.kiln.gateway.http.Replies;
import io.kiln.invoker.Invoker;
import io.kiln.invoker.call.CallRequest;
import io.kiln.queue.EventPolicy;
import io.kiln.queue.RetryPolicy;
import io.kiln.queue.db.Database;
import io.kiln.queue.topic.CloudEvent;
import io.kiln.queue.topic.Filter;
import io.kiln.queue.topic.Shape;
import io.kiln.queue.topic.Subscription;
import io.kiln.queue.topic.TopicStore;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Topics: {@code POST /v1/topics/{topic}} publishes a CloudEvent (structured or binary mode) to
 * every matching subscription; {@code PUT|DELETE /v1/topics/{topic}/subscriptions/{name}} and
 * {@code GET /v1/topics} manage subscriptions. docs/API.md, "Topics", is the contract. Store work
 * runs on the queue store's threads and is answered on the request's event loop.
 */
public final class TopicsApi {

    static final Set<String> SUBSCRIPTION_FIELDS = Set.of("function", "filters", "shape", "batchSize", "batchWindow");
    static final int MAX_SUBSCRIPTION_BODY = 64 * 1024;

    private final Vertx vertx;
    private final Invoker invoker;
    private final EventQueue queue;
    private final TopicStore topics;
    private final long maxBody;

    public TopicsApi(Vertx vertx, Invoker invoker, EventQueue queue, long maxBody) {
        this.vertx = vertx;
        this.invoker = invoker;
        this.queue = queue;
        this.topics = new TopicStore(queue.store(), CallRequest::newId);
        this.maxBody = maxBody;
    }

    // ---- publishing ----------------------------------------------------------------------

    /** {@code POST /v1/topics/{topic}}: 202 once every delivery is committed to the queue. */
    public void publish(RoutingContext ctx) {
        String topic = name("topic", ctx.pathParam("topic"));
        read(ctx, maxBody, "the event", body -> {
            CloudEvent event = CloudEventsHttp.parse(ctx.request().headers(), body.getBytes());
            answer(ctx, () -> topics.publish(topic, event, this::policyOf), deliveries -> {
                ObjectNode out = Json.object().put("topic", topic).put("eventId", event.id())
                        .put("deliveries", deliveries.size());
                ArrayNode ids = out.putArray("callIds");
                deliveries.forEach(d -> ids.add(CallRequest.format(d.itemId())));
                return out;
            }, 202);
        });
    }

    /** The function's retry policy now; a function that is gone gets the default (its delivery ends as not_found). */
    private RetryPolicy policyOf(String function) {
        return invoker.current(function).map(v -> v.config().events().retry()).orElse(EventPolicy.DEFAULT.retry());
    }

    // ---- subscriptions -------------------------------------------------------------------

    /** {@code PUT /v1/topics/{topic}/subscriptions/{name}}: 201 when created, 200 when it replaced one. */
    public void subscribe(RoutingContext ctx) {
        String topic = name("topic", ctx.pathParam("topic"));
        String name = name("subscription", ctx.pathParam("name"));
        read(ctx, MAX_SUBSCRIPTION_BODY, "the subscription", body -> {
            Spec spec = Spec.parse(body.getBytes());
            if (invoker.current(spec.function()).isEmpty()) {
                throw ApiError.notFound("no function named " + spec.function());
            }
            answer(ctx, () -> topics.put(topic, name, spec.function(), spec.filter(), spec.shape(), spec.batchSize(),
                    spec.batchWindow()), put -> {
                ctx.response().setStatusCode(put.created() ? 201 : 200);
                return view(put.subscription());
            }, 0);
        });
    }

    /** The body of a subscription's PUT. */
    record Spec(String function, Filter filter, Shape shape, int batchSize, Duration batchWindow) {

        static Spec parse(byte[] body) {
            JsonNode t;
            try {
                t = Json.MAPPER.readTree(body);
            } catch (IOException e) {
                t = null;
            }
            if (t == null || !t.isObject()) {
                throw ApiError.badRequest("the body must be a JSON object like {\"function\": \"audit\", \"filters\":"
                        + " {\"type\": \"order.created\"}}");
            }
            for (Iterator<String> it = t.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!SUBSCRIPTION_FIELDS.contains(f)) {
                    throw ApiError.badRequest("unknown field \"" + f + "\"; a subscription has function, filters,"
                            + " shape, batchSize and batchWindow");
                }
            }
            JsonNode fn = t.get("function");
            if (fn == null || !fn.isTextual() || fn.asText().isEmpty()) {
                throw ApiError.badRequest("a subscription needs \"function\": the name of the function to call");
            }
            try {
                Shape shape = t.hasNonNull("shape") ? Shape.of(t.get("shape").asText()) : Shape.PLAIN;
                JsonNode size = t.get("batchSize");
                JsonNode window = t.get("batchWindow");
                if (shape == Shape.PLAIN && (size != null || window != null)) {
                    throw ApiError.badRequest("batchSize and batchWindow are only for shape sqs");
                }
                int batchSize = shape == Shape.PLAIN ? 1 : Subscription.MAX_BATCH;
                if (size != null) {
                    if (!size.canConvertToInt() || !size.isIntegralNumber()) {
                        throw ApiError.badRequest("batchSize must be a whole number from 1 to " + Subscription.MAX_BATCH);
                    }
                    batchSize = size.asInt();
                }
                Duration batchWindow = Duration.ZERO;
                if (window != null) {
                    if (!window.isTextual()) {
                        throw ApiError.badRequest("batchWindow is a duration like \"500ms\", \"5s\" or \"1m\"");
                    }
                    batchWindow = DeployParams.duration("batchWindow", window.asText());
                }
                Filter filter = Filter.of(t.get("filters"));
                // The store checks the rest (names, ranges) with the same messages.
                new Subscription(1, "t", "s", fn.asText(), filter, shape, batchSize, batchWindow,
                        java.time.Instant.EPOCH, java.time.Instant.EPOCH);
                return new Spec(fn.asText(), filter, shape, batchSize, batchWindow);
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest(e.getMessage());
            }
        }
    }

    /** {@code GET /v1/topics}: every topic that has subscriptions, with them, by name. */
    public void list(RoutingContext ctx) {
        answer(ctx, topics::list, all -> {
            Map<String, ArrayNode> byTopic = new LinkedHashMap<>();
            for (Subscription s : all) {
                byTopic.computeIfAbsent(s.topic(), t -> Json.array()).add(view(s));
            }
            ObjectNode out = Json.object();
            ArrayNode list = out.putArray("topics");
            byTopic.forEach((t, subs) -> list.addObject().put("topic", t).set("subscriptions", subs));
            return out;
        }, 200);
    }

    /** {@code DELETE /v1/topics/{topic}/subscriptions/{name}}: its waiting deliveries are cancelled with it. */
    public void unsubscribe(RoutingContext ctx) {
        String topic = name("topic", ctx.pathParam("topic"));
        String name = name("subscription", ctx.pathParam("name"));
        answer(ctx, () -> topics.delete(topic, name), deleted -> {
            if (deleted == null) {
                throw ApiError.notFound("topic " + topic + " has no subscription " + name);
            }
            return Json.object().put("topic", topic).put("name", name).put("deleted", true)
                    .put("cancelledDeliveries", deleted.cancelled());
        }, 200);
    }

    static ObjectNode view(Subscription s) {
        ObjectNode o = Json.object().put("topic", s.topic()).put("name", s.name()).put("function", s.function());
        o.set("filters", s.filter().toJson());
        o.put("shape", s.shape().sql());
        if (s.shape() == Shape.SQS) {
            o.put("batchSize", s.batchSize()).put("batchWindow", s.batchWindow().toMillis() + "ms");
        }
        return o.put("source", s.source()).put("createdAt", s.createdAt().toString())
                .put("updatedAt", s.updatedAt().toString());
    }

    // ---- plumbing ------------------------------------------------------------------------

    private static String name(String what, String name) {
        try {
            Subscription.checkName(what, name);
            return name;
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
    }

    /** Reads the body, then runs {@code then} on the event loop; its ApiErrors are answered. */
    private void read(RoutingContext ctx, long limit, String what, Consumer<Buffer> then) {
        Bodies.read(ctx.request(), limit, what).onComplete(body -> {
            if (body.failed()) {
                Throwable t = body.cause();
                ctx.fail(t instanceof ApiError ? t : ApiError.badRequest("reading " + what + " failed: " + t));
                return;
            }
            try {
                then.accept(body.result());
            } catch (ApiError e) {
                ctx.fail(e);
            }
        });
    }

    /**
     * Runs {@code work} on the store's threads; answers with {@code then}'s JSON on the request's
     * event loop, with {@code status} (0: the status {@code then} set).
     */
    private <T> void answer(RoutingContext ctx, Database.Blocking<T> work, java.util.function.Function<T, JsonNode> then,
                            int status) {
        Context context = vertx.getOrCreateContext();
        queue.store().database().async(work).whenComplete((t, e) -> context.runOnContext(v -> {
            Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                    ? e.getCause() : e;
            if (cause instanceof IllegalArgumentException bad) {
                Replies.error(ctx, ApiError.badRequest(bad.getMessage()), 0);
                return;
            }
            if (cause instanceof java.sql.SQLException) {
                // One transaction each: a failed one changed nothing, so the caller may simply try again.
                System.getLogger(TopicsApi.class.getName()).log(System.Logger.Level.ERROR,
                        "the queue's store failed", cause);
                Replies.error(ctx, new ApiError(503, "queue_unavailable", "the queue's store is unavailable; nothing"
                        + " was published or changed, try again", null, Duration.ofSeconds(1)), 0);
                return;
            }
            if (cause != null) {
                ctx.fail(cause);
                return;
            }
            try {
                JsonNode body = then.apply(t);
                Replies.json(ctx, status == 0 ? ctx.response().getStatusCode() : status, body);
            } catch (ApiError a) {
                Replies.error(ctx, a, 0);
            }
        }));
    }
}
