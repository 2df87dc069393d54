package io.kiln.gateway.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.gateway.auth.BearerAuth;
import io.kiln.gateway.calls.CallbackTargets;
import io.kiln.gateway.cluster.Cluster;
import io.kiln.gateway.cluster.Forwarder;
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
import io.kiln.invoker.call.CallException;
import io.kiln.invoker.call.CallRequest;
import io.kiln.invoker.call.IfBusy;
import io.kiln.invoker.call.CallResult;
import io.kiln.invoker.call.CallTimings;
import io.kiln.invoker.store.FunctionVersion;
import io.kiln.queue.NewItem;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

import java.time.Duration;
import java.util.List;
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
    /** Null on a single node. */
    private final Cluster cluster;

    private final CallbackTargets callbackTargets;

    public Triggers(Vertx vertx, Invoker invoker, BearerAuth auth, RateLimiter rates, EventQueue queue,
                    long maxBody, Duration grace, Cluster cluster, CallbackTargets callbackTargets) {
        this.vertx = vertx;
        this.callbackTargets = callbackTargets;
        this.cluster = cluster;
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

    /**
     * Auth, existence and the rate limit; the function's current version. A call a peer
     * forwarded was counted against the rate limit where it came in, and a function this node
     * has not caught up with yet sends it back to be run elsewhere.
     */
    private FunctionVersion admit(RoutingContext ctx, String name, boolean forwarded) {
        FunctionVersion fn = invoker.current(name).orElse(null);
        // A caller without the token learns nothing about private or missing functions: both are 401.
        if (fn == null || !fn.config().publicInvoke()) {
            auth.require(ctx.request().getHeader("Authorization"));
        }
        if (fn == null && forwarded) {
            ctx.response().putHeader(Forwarder.ELSEWHERE, "not_deployed_here");
            throw new ApiError(503, "not_deployed_here", "node " + cluster.self() + " does not have " + name
                    + " yet");
        }
        if (fn == null) {
            throw ApiError.notFound("no function named " + name);
        }
        Duration wait = forwarded ? null : rates.acquire(name);
        if (wait != null) {
            throw new ApiError(429, "rate_limited", "function " + name + " is over its rate limit; try again later",
                    null, wait);
        }
        return fn;
    }

    // ---- sync ---------------------------------------------------------------------------

    /**
     * A synchronous call. On one node it runs here. In a cluster it goes to its function's home
     * node (rendezvous hashing over the live nodes) and, when that node cannot start it at once
     * or cannot be reached, to the next in the function's order; a call that no node can start
     * at once waits in this node's queue. Every hop is at most one: a forwarded call runs where
     * it lands or comes back with {@link Forwarder#ELSEWHERE}.
     */
    public void sync(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        HttpServerRequest request = ctx.request();
        boolean forwarded = cluster != null && cluster.forwarded(request);
        FunctionVersion fn = admit(ctx, name, forwarded);
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
            long deadline = System.nanoTime() + timeout.toNanos();
            long timer = vertx.setTimer(Math.max(1, timeout.toMillis()), t -> Replies.error(ctx,
                    new ApiError(504, "gateway_timeout", "no answer from " + name + " within " + timeout.toMillis()
                            + " ms (its timeout plus " + grace.toMillis() + " ms to queue and start)"), callId));
            SyncCall sc = new SyncCall(ctx, context, name, call, body.result(), timer, deadline);
            if (forwarded) {
                boolean refuse = "refuse".equals(request.getHeader(Forwarder.IF_BUSY));
                runHere(sc, refuse ? IfBusy.REFUSE : IfBusy.QUEUE, () -> sc.finish(() -> {
                    ctx.response().putHeader(Forwarder.ELSEWHERE, "at_capacity");
                    Replies.error(ctx, new ApiError(503, "at_capacity", "node " + cluster.self()
                            + " cannot start a call of " + name + " at once"), callId);
                }));
            } else if (cluster == null) {
                runHere(sc, IfBusy.QUEUE, null);
            } else {
                route(sc, cluster.rank(name), 0);
            }
        }));
    }

    /** One synchronous call on its way: what routing needs to try it here or elsewhere, and to answer once. */
    private record SyncCall(RoutingContext ctx, Context context, String function, CallRequest call, Buffer body,
                            long timer, long deadlineNanos) {

        /** Writes the answer on the request's event loop, once, unless the 504 went first or the client left. */
        void finish(Runnable answer) {
            context.runOnContext(v -> {
                ctx.vertx().cancelTimer(timer);
                if (ctx.response().ended() || ctx.response().closed()) {
                    return;
                }
                try {
                    answer.run();
                } catch (RuntimeException e) {
                    Replies.error(ctx, CallErrors.of(e), call.callId());
                }
            });
        }
    }

    /** Tries {@code ranked[i]}, then the next; past the last, the call waits here. */
    private void route(SyncCall sc, List<String> ranked, int i) {
        if (sc.ctx().response().ended() || sc.ctx().response().closed()) {
            return; // timed out meanwhile, or the client left
        }
        if (i >= ranked.size()) {
            runHere(sc, IfBusy.QUEUE, null);
            return;
        }
        String node = ranked.get(i);
        String url = cluster.url(node);
        if (node.equals(cluster.self()) || url == null) {
            runHere(sc, IfBusy.REFUSE, () -> sc.context().runOnContext(v -> route(sc, ranked, i + 1)));
            return;
        }
        HttpServerRequest request = sc.ctx().request();
        long left = Math.max(1, (sc.deadlineNanos() - System.nanoTime()) / 1_000_000);
        cluster.forwarder().forward(url, request.method(), request.uri(), request.headers(), sc.body(), true, left)
                .onComplete(done -> {
                    Forwarder.Outcome o = done.succeeded() ? done.result() : new Forwarder.Failed(String.valueOf(
                            done.cause()));
                    if (o instanceof Forwarder.Elsewhere e) {
                        if (e.why().startsWith(Forwarder.UNREACHABLE)) {
                            cluster.unreachable(node);
                        }
                        sc.context().runOnContext(v -> route(sc, ranked, i + 1));
                    } else if (o instanceof Forwarder.Answered a) {
                        sc.finish(() -> a.writeTo(sc.ctx().response()));
                    } else if (o instanceof Forwarder.Failed f) {
                        sc.finish(() -> Replies.error(sc.ctx(), new ApiError(502, "node_failed", "node " + node
                                + " failed while it had the call (" + f.why() + "); it may have run"),
                                sc.call().callId()));
                    }
                });
    }

    /**
     * Runs the call on this node. With {@link IfBusy#REFUSE}, {@code atCapacity} runs instead of
     * an answer when the call cannot start at once.
     */
    private void runHere(SyncCall sc, IfBusy ifBusy, Runnable atCapacity) {
        invoker.invoke(sc.function(), sc.call(), ifBusy).whenComplete((result, error) -> {
            if (error != null && atCapacity != null && CallException.codeOf(error).equals(CallException.Codes.AT_CAPACITY)) {
                atCapacity.run();
                return;
            }
            sc.finish(() -> {
                if (error != null) {
                    Replies.error(sc.ctx(), CallErrors.of(error), sc.call().callId());
                } else {
                    respond(sc.ctx(), result);
                }
            });
        });
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
        }
        // Resolved while the body is read; the call is refused before it is queued.
        Future<?> callbackChecked = callback == null ? Future.succeededFuture() : checkCallback(callback);
        String key = idempotencyKey(request.getHeader(IDEMPOTENCY_KEY));
        FunctionVersion fn = admit(ctx, name, false);
        Context context = vertx.getOrCreateContext();
        Bodies.read(request, maxBody, "the request body").onComplete(guarded(ctx, body -> {
            if (body.failed()) {
                failBody(ctx, body.cause());
                return;
            }
            callbackChecked.onComplete(checked -> context.runOnContext(v -> {
                if (checked.failed()) {
                    Replies.error(ctx, (ApiError) checked.cause(), 0);
                } else {
                    enqueue(ctx, context, name, fn, callback, key, body.result());
                }
            }));
        }));
    }

    private void enqueue(RoutingContext ctx, Context context, String name, FunctionVersion fn, String callback,
                         String key, Buffer body) {
        HttpServerRequest request = ctx.request();
        long callId = CallRequest.newId();
        String head = HttpHead.of(request, "/").toString();
        NewItem item = NewItem.call(callId, name, body.getBytes(), head, callback, key, "api",
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

    /**
     * A URL the gateway may POST the call's record to: absolute http(s) (else 400 bad_request
     * at once), and resolving to no internal address unless the operator allowed it (else, once
     * resolved, an {@link ApiError} 400 callback_forbidden). A name that does not resolve now is
     * accepted: the send resolves it again and retries like a receiver that is down.
     */
    Future<Void> checkCallback(String url) {
        Future<CallbackTargets.Target> checked;
        try {
            checked = callbackTargets.check(CALLBACK, url);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        return checked.<Void>mapEmpty().recover(e -> e instanceof CallbackTargets.Forbidden
                ? Future.failedFuture(forbidden(e)) : Future.succeededFuture());
    }

    /** The answer to a callback or URL destination that resolves to an internal address. */
    public static ApiError forbidden(Throwable e) {
        return new ApiError(400, "callback_forbidden", e.getMessage());
    }
}
