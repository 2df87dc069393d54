package io.kiln.gateway.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.gateway.auth.BearerAuth;
import io.kiln.gateway.events.CallView;
import io.kiln.gateway.events.EventQueue;
import io.kiln.gateway.http.ApiError;
import io.kiln.gateway.http.Bodies;
import io.kiln.gateway.http.CallErrors;
import io.kiln.gateway.http.HttpHead;
import io.kiln.gateway.http.Json;
import io.kiln.gateway.http.Replies;
import io.kiln.gateway.http.Reply;
import io.kiln.gateway.limits.RateLimiter;
import io.kiln.invoker.Invoker;
import io.kiln.invoker.call.CallRequest;
import io.kiln.invoker.call.CallResult;
import io.kiln.invoker.call.CallTimings;
import io.kiln.invoker.store.FunctionVersion;
import io.kiln.queue.NewItem;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP trigger ({@code ANY /function/{name}[/**]}) and the async trigger
 * ({@code POST /async-function/{name}}). Both admit a call the same way: the token unless the
 * function is public, the function must exist, its rate limit, the body within its limit.
 */
public final class Triggers {

    /** The routing context key of the request's start, {@link System#nanoTime()}. */
    public static final String START = "kiln.start";
    public static final String CALLBACK = "X-Kiln-Callback";
    public static final String IDEMPOTENCY_KEY = "Idempotency-Key";

    private final Vertx vertx;
    private final Invoker invoker;
    private final BearerAuth auth;
    private final RateLimiter rates;
    private final EventQueue queue;
    private final long maxBody;
    private final Duration grace;
    private final AtomicInteger inFlight = new AtomicInteger();

    public Triggers(Vertx vertx, Invoker invoker, BearerAuth auth, RateLimiter rates, EventQueue queue,
                    long maxBody, Duration grace) {
        this.vertx = vertx;
        this.invoker = invoker;
        this.auth = auth;
        this.rates = rates;
        this.queue = queue;
        this.maxBody = maxBody;
        this.grace = grace;
    }

    /** Synchronous calls whose answer has not been written yet. */
    public int inFlight() {
        return inFlight.get();
    }

    /** Auth, existence and the rate limit; the function's current version. */
    private FunctionVersion admit(RoutingContext ctx, String name) {
        FunctionVersion fn = invoker.current(name).orElse(null);
        // A caller without the token learns nothing about private or missing functions: both are 401.
        if (fn == null || !fn.config().publicInvoke()) {
            auth.require(ctx.request().getHeader("Authorization"));
        }
        if (fn == null) {
            throw ApiError.notFound("no function named " + name);
        }
        Duration wait = rates.acquire(name);
        if (wait != null) {
            throw new ApiError(429, "rate_limited", "function " + name + " is over its rate limit; try again later",
                    null, wait);
        }
        return fn;
    }

    // ---- sync ---------------------------------------------------------------------------

    public void sync(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        FunctionVersion fn = admit(ctx, name);
        HttpServerRequest request = ctx.request();
        Context context = vertx.getOrCreateContext();
        String rest = HttpHead.rest(request.path(), ctx.normalizedPath(), "/function/" + name);
        inFlight.incrementAndGet();
        ctx.addEndHandler(v -> inFlight.decrementAndGet());
        Bodies.read(request, maxBody, "the request body").onComplete(guarded(ctx, body -> {
            if (body.failed()) {
                failBody(ctx, body.cause());
                return;
            }
            long callId = CallRequest.newId();
            CallRequest call = new CallRequest(callId, body.result().getBytes(), HttpHead.of(request, rest), null);
            Duration timeout = fn.config().timeout().plus(grace);
            long timer = vertx.setTimer(Math.max(1, timeout.toMillis()), t -> Replies.error(ctx,
                    new ApiError(504, "gateway_timeout", "no answer from " + name + " within " + timeout.toMillis()
                            + " ms (its timeout plus " + grace.toMillis() + " ms to queue and start)"), callId));
            invoker.invoke(name, call).whenComplete((result, error) -> context.runOnContext(v -> {
                vertx.cancelTimer(timer);
                try {
                    if (error != null) {
                        Replies.error(ctx, CallErrors.of(error), callId);
                    } else {
                        respond(ctx, result);
                    }
                } catch (RuntimeException e) {
                    Replies.error(ctx, CallErrors.of(e), callId);
                }
            }));
        }));
    }

    /** A completion handler whose unexpected exceptions become the route's failure (a JSON 500), not a hung request. */
    static <T> io.vertx.core.Handler<T> guarded(RoutingContext ctx, io.vertx.core.Handler<T> h) {
        return t -> {
            try {
                h.handle(t);
            } catch (RuntimeException e) {
                ctx.fail(e);
            }
        };
    }

    private void respond(RoutingContext ctx, CallResult result) {
        HttpServerResponse response = ctx.response();
        if (response.ended() || response.closed()) {
            return; // timed out (504 sent) or the client left
        }
        Reply reply;
        try {
            reply = Reply.of(result);
        } catch (ApiError e) {
            Replies.error(ctx, e, result.callId());
            return;
        }
        response.setStatusCode(reply.status());
        for (Map.Entry<String, String> h : reply.headers()) {
            response.headers().add(h.getKey(), h.getValue());
        }
        CallTimings t = result.timings();
        response.putHeader(Replies.CALL_ID, CallRequest.format(result.callId()));
        response.putHeader("X-Kiln-Start", t.cold() ? "cold" : "warm");
        response.putHeader("Server-Timing", serverTiming(t, System.nanoTime() - (long) ctx.get(START)));
        response.end(Buffer.buffer(reply.body()));
    }

    /**
     * {@code queue;dur=..., start;dur=..., invoke;dur=..., gateway;dur=..., total;dur=...} in ms:
     * waiting for an instance, the cold start (0 when warm), INVOKE to answer, and what is left of
     * the request's time in the gateway (reading the body, hand-offs, writing the head).
     */
    static String serverTiming(CallTimings t, long totalNanos) {
        double total = totalNanos / 1e6;
        double queue = t.queuedUs() / 1e3;
        double start = t.startUs() / 1e3;
        double invoke = t.invokeUs() / 1e3;
        double gateway = Math.max(0, total - queue - start - invoke);
        return String.format(Locale.ROOT, "queue;dur=%.3f, start;dur=%.3f, invoke;dur=%.3f, gateway;dur=%.3f, "
                + "total;dur=%.3f", queue, start, invoke, gateway, total);
    }

    private static void failBody(RoutingContext ctx, Throwable cause) {
        ApiError e = cause instanceof ApiError a ? a : ApiError.badRequest("reading the request body failed: "
                + cause.getMessage());
        // The rest of the body was not read: the connection cannot carry another request.
        Replies.errorAndClose(ctx, e, 0);
    }

    // ---- async --------------------------------------------------------------------------

    /**
     * {@code POST /async-function/{name}}: the call is committed to the durable queue before the
     * 202 is sent. With an {@code Idempotency-Key}, a repeated submit answers with the first call.
     */
    public void async(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        HttpServerRequest request = ctx.request();
        String callback = request.getHeader(CALLBACK);
        if (callback != null) {
            // The gateway will send a request where the caller says: only for holders of the token.
            auth.require(request.getHeader("Authorization"));
            checkCallback(callback);
        }
        String key = idempotencyKey(request.getHeader(IDEMPOTENCY_KEY));
        FunctionVersion fn = admit(ctx, name);
        Context context = vertx.getOrCreateContext();
        Bodies.read(request, maxBody, "the request body").onComplete(guarded(ctx, body -> {
            if (body.failed()) {
                failBody(ctx, body.cause());
                return;
            }
            long callId = CallRequest.newId();
            String head = HttpHead.of(request, "/").toString();
            NewItem item = NewItem.call(callId, name, body.result().getBytes(), head, callback, key, "api",
                    fn.config().events().retry());
            queue.store().database().submit(c -> queue.store().enqueue(c, item)).whenComplete((e, error) ->
                    context.runOnContext(v -> {
                        if (error != null) {
                            Replies.error(ctx, unavailable(error), callId);
                            return;
                        }
                        if (!e.existing()) {
                            queue.store().wake();
                        }
                        String id = CallRequest.format(e.item().id());
                        String url = "/v1/calls/" + id;
                        ObjectNode accepted = Json.object().put("callId", id).put("status", CallView.of(e.item(),
                                null, false).get("state").asText()).put("statusUrl", url);
                        HttpServerResponse response = ctx.response().putHeader("Location", url)
                                .putHeader(Replies.CALL_ID, id);
                        if (e.existing()) {
                            response.putHeader("Idempotent-Replayed", "true");
                        }
                        Replies.json(ctx, 202, accepted);
                    }));
        }));
    }

    /** The store could not be reached: nothing was accepted, so the caller may try again. */
    static ApiError unavailable(Throwable t) {
        Throwable e = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
        System.getLogger(Triggers.class.getName()).log(System.Logger.Level.ERROR, "the queue's store failed", e);
        return new ApiError(503, "queue_unavailable", "the queue's store could not take the call; nothing was"
                + " accepted, try again", null, Duration.ofSeconds(1));
    }

    /** Null, or 1 to 255 visible ASCII characters. */
    static String idempotencyKey(String key) {
        if (key == null) {
            return null;
        }
        if (key.isEmpty() || key.length() > 255 || !key.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f)) {
            throw ApiError.badRequest(IDEMPOTENCY_KEY + " must be 1 to 255 visible ASCII characters");
        }
        return key;
    }

    static void checkCallback(String url) {
        try {
            URI u = new URI(url);
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if (!u.isAbsolute() || !(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null) {
                throw ApiError.badRequest(CALLBACK + " must be an absolute http or https URL, got \"" + url + "\"");
            }
        } catch (URISyntaxException e) {
            throw ApiError.badRequest(CALLBACK + " is not a URL: " + e.getMessage());
        }
    }
}
