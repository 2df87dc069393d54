package io.kiln.gateway.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.gateway.calls.CallbackTargets;
import io.kiln.gateway.cluster.CatalogSync;
import io.kiln.gateway.http.ApiError;
import io.kiln.gateway.http.Bodies;
import io.kiln.gateway.http.Json;
import io.kiln.gateway.http.LingeringClose;
import io.kiln.gateway.http.Replies;
import io.kiln.gateway.http.UploadStream;
import io.kiln.invoker.Invoker;
import io.kiln.invoker.instance.StartFailure;
import io.kiln.invoker.store.FunctionConfig;
import io.kiln.invoker.store.FunctionStore;
import io.kiln.invoker.store.FunctionVersion;
import io.kiln.queue.Destination;
import io.kiln.queue.catalog.FunctionCatalog;
import io.kiln.queue.catalog.VersionConflict;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.nio.file.Files;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/** Deploy, list, describe and delete functions (the management routes under /v1/functions). */
public final class FunctionsApi {

    private static final System.Logger LOG = System.getLogger(FunctionsApi.class.getName());
    /** An upload that sends nothing for this long is given up. */
    static final Duration UPLOAD_IDLE = Duration.ofSeconds(60);
    /** A deploy waits this long at most for a URL destination's name to resolve. */
    static final Duration DESTINATION_LOOKUP = Duration.ofSeconds(10);

    private final Vertx vertx;
    private final Invoker invoker;
    private final WorkerExecutor workers;
    private final long maxJarBytes;
    private final Consumer<String> deleted;
    /** The cluster's shared catalog; null on a single node. */
    private final FunctionCatalog catalog;
    private final CallbackTargets callbackTargets;

    /**
     * @param workers deploys and deletes block (a deploy builds a snapshot): they run here
     * @param deleted told the name of each deleted function
     * @param catalog in cluster mode, the shared catalog deploys publish to and deletes delete
     *                from (the truth; this node's store follows it); null on a single node
     * @param callbackTargets checks URL destinations ({@code onSuccess}/{@code onFailure}) as callbacks are
     */
    public FunctionsApi(Vertx vertx, Invoker invoker, WorkerExecutor workers, long maxJarBytes,
                        Consumer<String> deleted, FunctionCatalog catalog, CallbackTargets callbackTargets) {
        this.callbackTargets = callbackTargets;
        this.vertx = vertx;
        this.invoker = invoker;
        this.workers = workers;
        this.maxJarBytes = maxJarBytes;
        this.deleted = deleted;
        this.catalog = catalog;
    }

    /**
     * In cluster mode a deploy's version is published to the catalog after its init, before
     * this node stores it: one whose init fails is refused before any node hears of it, and one
     * that loses a race with another node's deploy of the function is refused (409) here alone.
     */
    private Invoker.Publisher publisher() {
        if (catalog == null) {
            return Invoker.Publisher.NONE;
        }
        return (v, jar) -> {
            try {
                catalog.publish(CatalogSync.toCatalog(v), () -> Files.newInputStream(jar));
            } catch (SQLException e) {
                throw unavailable("deploy", e);
            }
        };
    }

    private static ApiError unavailable(String what, SQLException e) {
        LOG.log(System.Logger.Level.WARNING, "the " + what + " could not reach the shared catalog: " + e.getMessage());
        return new ApiError(503, "unavailable", "the " + what + " could not reach the cluster's shared catalog;"
                + " try again", null, Duration.ofSeconds(5));
    }

    private static String name(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        try {
            FunctionStore.checkName(name);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        return name;
    }

    // ---- deploy -------------------------------------------------------------------------

    /**
     * {@code PUT /v1/functions/{name}}: the body is the jar, streamed to the invoker on a worker;
     * the configuration is in the query. With {@code Accept: application/x-ndjson} the answer is
     * 200 at once and a stream of progress lines, then one final function or error line.
     */
    public void deploy(RoutingContext ctx) {
        String name = name(ctx);
        FunctionConfig config = DeployParams.parse(ctx.queryParams());
        HttpServerRequest request = ctx.request();
        Bodies.checkDeclared(request, maxJarBytes, "the jar");
        Context context = vertx.getOrCreateContext();
        UploadStream upload = new UploadStream(request, context, maxJarBytes, "the jar", UPLOAD_IDLE);
        boolean stream = accepts(request, Replies.NDJSON);
        HttpServerResponse response = ctx.response();
        Consumer<String> progress = line -> { };
        if (stream) {
            response.setStatusCode(200).setChunked(true).putHeader("Content-Type", Replies.NDJSON);
            progress = line -> context.runOnContext(v -> {
                if (!response.ended() && !response.closed()) {
                    response.write(Json.line(Json.object().put("progress", line)));
                }
            });
        }
        Bodies.sendContinue(request);
        Consumer<String> report = progress;
        workers.executeBlocking(() -> {
            checkDestinations(config);
            return invoker.deploy(name, upload, config, report, publisher());
        }, false).onComplete(Triggers.guarded(ctx, ar -> {
            if (!upload.ended()) {
                // The invoker stopped reading early (a refused jar): the connection is done for.
                // A streamed (NDJSON) deploy has sent its head already; the close still ends it.
                LingeringClose.afterResponse(ctx);
            }
            if (ar.succeeded()) {
                FunctionVersion v = ar.result();
                ObjectNode describe = describe(v);
                if (stream) {
                    end(response, Json.object().set("function", describe));
                } else {
                    Replies.json(ctx, v.version() == 1 ? 201 : 200, describe);
                }
                return;
            }
            ApiError e = deployError(name, ar.cause());
            if (stream) {
                end(response, Json.object().set("error", Replies.errorObject(e, 0)));
            } else {
                Replies.error(ctx, e, 0);
            }
        }));
    }

    /**
     * A URL destination is a callback made for every ended call: refused at deploy (400
     * callback_forbidden) when it resolves to an internal address, as X-Kiln-Callback is at
     * submit. Runs on a deploy worker, which may wait for the resolver (it answers on an event
     * loop). A name that does not resolve now is accepted: each send resolves it again.
     */
    private void checkDestinations(FunctionConfig config) throws InterruptedException {
        checkDestination("onSuccess", config.events().onSuccess());
        checkDestination("onFailure", config.events().onFailure());
    }

    private void checkDestination(String field, Destination d) throws InterruptedException {
        if (d != null && d.kind() == Destination.Kind.URL) {
            try {
                callbackTargets.check(field, d.target()).toCompletionStage().toCompletableFuture()
                        .get(DESTINATION_LOOKUP.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof CallbackTargets.Forbidden f) {
                    throw Triggers.forbidden(f);
                }
            } catch (java.util.concurrent.TimeoutException e) {
                // Accepted, as a name that does not resolve is: the send checks again.
            }
        }
    }

    private static void end(HttpServerResponse response, ObjectNode line) {
        if (!response.ended() && !response.closed()) {
            response.end(Json.line(line));
        }
    }

    static boolean accepts(HttpServerRequest request, String type) {
        String accept = request.getHeader("Accept");
        return accept != null && accept.toLowerCase(java.util.Locale.ROOT).contains(type);
    }

    /** What a failed deploy tells its caller (docs/API.md, "Deploy"). */
    static ApiError deployError(String name, Throwable e) {
        if (e instanceof ApiError a) {
            return a;
        }
        if (e instanceof VersionConflict c) {
            return new ApiError(409, "conflict", c.getMessage());
        }
        if (e instanceof UploadStream.TooLarge) {
            return ApiError.tooLarge(e.getMessage());
        }
        if (e instanceof IllegalArgumentException) {
            return ApiError.badRequest(e.getMessage());
        }
        if (e instanceof StartFailure f) {
            ObjectNode extra = Json.object().put("output", f.output());
            boolean init = f.code().equals("init_failed") || f.code().equals("init_timeout");
            return init
                    ? new ApiError(422, "init_failed", f.getMessage(), extra, null)
                    : new ApiError(502, "start_failed", f.getMessage(), extra.put("startCode", f.code()), null);
        }
        if (e instanceof IOException) {
            LOG.log(System.Logger.Level.WARNING, "deploy of " + name + " failed: " + e);
            return ApiError.badRequest("the upload failed: " + e.getMessage());
        }
        LOG.log(System.Logger.Level.ERROR, "deploy of " + name + " failed", e);
        return new ApiError(500, "internal_error", "the deploy failed inside the platform; see the gateway's log");
    }

    // ---- read ---------------------------------------------------------------------------

    /** The description with the environment's values masked. */
    ObjectNode describe(FunctionVersion v) {
        return describe(v, false);
    }

    ObjectNode describe(FunctionVersion v, boolean revealEnv) {
        return Describe.of(v, invoker.versions(v.name()), invoker.state(v.name()), revealEnv);
    }

    /** {@code GET /v1/functions}: every function, by name. */
    public void list(RoutingContext ctx) {
        ObjectNode body = Json.object();
        ArrayNode all = body.putArray("functions");
        for (FunctionVersion v : invoker.list()) {
            all.add(describe(v));
        }
        Replies.json(ctx, 200, body);
    }

    /**
     * {@code GET /v1/functions/{name}}: environment values masked; {@code ?reveal=env} shows
     * them (the management token is needed either way).
     */
    public void describe(RoutingContext ctx) {
        String name = name(ctx);
        List<String> reveal = ctx.queryParams().getAll("reveal");
        for (String r : reveal) {
            if (!r.equals("env")) {
                throw ApiError.badRequest("reveal takes only env (to show the environment's values), got \"" + r
                        + "\"");
            }
        }
        FunctionVersion v = invoker.current(name).orElseThrow(() -> ApiError.notFound("no function named " + name));
        Replies.json(ctx, 200, describe(v, !reveal.isEmpty()));
    }

    /** {@code DELETE /v1/functions/{name}}: 204, or 404 if there is none. */
    public void delete(RoutingContext ctx) {
        String name = name(ctx);
        workers.executeBlocking(() -> {
            if (catalog == null) {
                return invoker.delete(name);
            }
            // The catalog first: it is the truth, and every node (this one included) follows it.
            boolean existed;
            try {
                existed = catalog.delete(name);
            } catch (SQLException e) {
                throw unavailable("delete", e);
            }
            invoker.delete(name);
            return existed;
        }, false).onComplete(Triggers.guarded(ctx, ar -> {
            if (ar.failed() && ar.cause() instanceof ApiError e) {
                Replies.error(ctx, e, 0);
            } else if (ar.failed()) {
                LOG.log(System.Logger.Level.ERROR, "delete of " + name + " failed", ar.cause());
                Replies.error(ctx, new ApiError(500, "internal_error", "the delete failed inside the platform; "
                        + "see the gateway's log"), 0);
            } else if (!ar.result()) {
                Replies.error(ctx, ApiError.notFound("no function named " + name), 0);
            } else {
                deleted.accept(name);
                ctx.response().setStatusCode(204).end();
            }
        }));
    }
}
