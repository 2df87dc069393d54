package io.kiln.gateway;

import io.kiln.gateway.api.CallsApi;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.gateway.cluster.Cluster;
import io.kiln.gateway.cluster.Forwarder;
import io.kiln.gateway.connections.Connections;
import io.kiln.queue.cluster.NodeTable;
import io.kiln.invoker.call.CallDispatcher;
import io.kiln.gateway.api.FunctionsApi;
import io.kiln.gateway.api.HealthApi;
import io.kiln.gateway.api.JobsApi;
import io.kiln.gateway.api.LogsApi;
import io.kiln.gateway.api.SchedulesApi;
import io.kiln.gateway.api.Triggers;
import io.kiln.gateway.auth.BearerAuth;
import io.kiln.gateway.auth.TokenFile;
import io.kiln.gateway.calls.CallbackTargets;
import io.kiln.gateway.calls.Callbacks;
import io.kiln.gateway.cluster.CatalogSync;
import io.kiln.gateway.events.EventQueue;
import io.kiln.gateway.events.Scheduler;
import io.kiln.gateway.jobs.Jobs;
import io.kiln.gateway.http.ApiError;
import io.kiln.gateway.http.Json;
import io.kiln.gateway.http.Replies;
import io.kiln.gateway.limits.RateLimiter;
import io.kiln.gateway.topics.SqsBatchResponses;
import io.kiln.gateway.topics.TopicsApi;
import io.kiln.invoker.Invoker;
import io.kiln.queue.catalog.FunctionCatalog;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.TooLongFrameException;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * The platform's front door: a Vert.x HTTP server with the management API, the HTTP and async
 * triggers, health, metrics and the OpenAPI document, over an embedded {@link Invoker}. The
 * routes and their handlers are listed in {@link #routes}; docs/API.md is the contract.
 */
public final class Gateway implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Gateway.class.getName());
    static final String ROUTE = "kiln.route";
    /**
     * HTTP event loops: one per core. Handlers never block (a call is posted to the invoker's
     * dispatcher and answered on the same event loop), so more would only add switching.
     */
    static final int EVENT_LOOPS = Math.max(1, Runtime.getRuntime().availableProcessors());

    private final GatewayConfig config;
    private final TokenFile token;
    /** Null on a single node (SQLite). */
    private final Cluster cluster;
    private final PrometheusMeterRegistry registry;
    private final Invoker invoker;
    private final Vertx vertx;
    private final WorkerExecutor workers;
    private final BearerAuth auth;
    private final RateLimiter rates;
    private final Callbacks callbacks;
    private final EventQueue queue;
    private final Triggers triggers;
    private final CallsApi calls;
    private final Scheduler scheduler;
    private final SchedulesApi schedules;
    private final Jobs jobs;
    private final JobsApi jobsApi;
    private final TopicsApi topics;
    private final FunctionsApi functions;
    /** Cluster mode (a PostgreSQL queue): the shared function catalog and this node's follower of it; null otherwise. */
    private final FunctionCatalog catalog;
    private final CatalogSync catalogSync;
    private final LogsApi logs;
    private final HealthApi health;
    private final GatewayMetrics metrics;
    private final Connections connections;
    private final Router router;
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile boolean draining;
    /** One HTTP server per event loop, all on one port. */
    private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
    private volatile int port;

    private Gateway(GatewayConfig config, TokenFile token, PrometheusMeterRegistry registry, Invoker invoker,
                    LongSupplier nanoClock) throws SQLException, IOException {
        this.config = config;
        this.registry = registry;
        this.invoker = invoker;
        this.vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(false));
        // Deploys build snapshots (seconds; minutes for a first boot under TCG): their own pool,
        // allowed to run long without the blocked-thread checker's warnings.
        this.workers = vertx.createSharedWorkerExecutor("kiln-deploy", 4, 30, TimeUnit.MINUTES);
        this.rates = new RateLimiter(config.rateLimit(), config.rateBurst(), nanoClock);
        this.callbacks = new Callbacks(vertx, new CallbackTargets(vertx, config.callbackAllow()));
        try {
            this.queue = EventQueue.start(config.queue(), invoker, callbacks, registry, Clock.systemUTC());
        } catch (SQLException | RuntimeException e) {
            callbacks.close();
            vertx.close();
            throw e;
        }
        try {
            if (config.clustered()) {
                // The first node to start proposes the settings every node then shares: the
                // internal credential, and its own management token (so one token works on every
                // node; each node writes it to its token file for the local CLI).
                NodeTable nodes = new NodeTable(queue.store().database(), Clock.systemUTC());
                String secret = nodes.setting(Cluster.INTERNAL_SECRET, NodeTable.newSecret());
                token = token.replacedBy(nodes.setting(Cluster.MANAGEMENT_TOKEN, token.token()));
                this.cluster = new Cluster(nodes, queue.store(), config.cluster(), config.queue().node(),
                        new Forwarder(vertx, config.queue().node(), secret, 1000));
                // Before the node serves: its functions are the catalog's from its first request on.
                this.catalog = new FunctionCatalog(queue.store().database(), Clock.systemUTC());
                this.catalogSync = CatalogSync.start(catalog, invoker, rates::forget);
            } else {
                this.cluster = null;
                this.catalog = null;
                this.catalogSync = null;
            }
        } catch (SQLException | IOException | RuntimeException e) {
            queue.close();
            callbacks.close();
            vertx.close();
            throw e;
        }
        this.token = token;
        this.auth = new BearerAuth(token.token());
        this.triggers = new Triggers(vertx, invoker, auth, rates, queue, config.maxBodyBytes(),
                config.requestTimeoutGrace(), cluster, callbacks.targets());
        this.calls = new CallsApi(vertx, queue);
        this.scheduler = Scheduler.start(queue, invoker);
        this.schedules = new SchedulesApi(vertx, scheduler, invoker);
        this.jobs = new Jobs(queue, config.jobsInputDir(), registry);
        this.jobsApi = new JobsApi(vertx, invoker, jobs, queue.store().database(), queue.store().clock());
        this.topics = new TopicsApi(vertx, invoker, queue, config.maxBodyBytes());
        queue.checkResults(new SqsBatchResponses());
        this.functions = new FunctionsApi(vertx, invoker, workers, config.maxJarBytes(), rates::forget,
                catalog, callbacks.targets());
        this.logs = new LogsApi(vertx, invoker, config.queue().node(), cluster);
        this.health = new HealthApi(invoker, queue, registry, () -> draining, cluster, this::load);
        this.metrics = new GatewayMetrics(registry);
        this.connections = new Connections(config.connections(), config.queue().node(), registry);
        this.router = routes();
    }

    /**
     * Opens the token and the invoker (which activates every stored function), then listens.
     * Returns once the server accepts connections.
     */
    public static Gateway start(GatewayConfig config) throws IOException {
        return start(config, System::nanoTime);
    }

    /**
     * {@link #start(GatewayConfig)} with the clock the rate limits are measured by, in
     * nanoseconds: tests pass one they move by hand, so no limit depends on how fast they run.
     */
    public static Gateway start(GatewayConfig config, LongSupplier nanoClock) throws IOException {
        TokenFile token = TokenFile.loadOrCreate(config.dataDir());
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // Every series says which node it is from, so a cluster's scrapes can be put side by side.
        registry.config().commonTags("node", config.queue().node());
        Invoker invoker = Invoker.start(config.invoker(), registry);
        Gateway g;
        try {
            g = new Gateway(config, token, registry, invoker, nanoClock);
        } catch (SQLException e) {
            invoker.close();
            throw new IOException("cannot open the queue's store (" + config.queue().url().replaceAll(
                    "password=[^&]*", "password=***") + "): " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            invoker.close();
            throw e;
        }
        try {
            g.listen();
            if (g.cluster != null) {
                g.cluster.join(config.cluster().urlFor(config.host(), g.port), invoker.engine().engine().name(),
                        () -> g.load().toString());
            }
        } catch (SQLException e) {
            g.shutdown(Duration.ZERO);
            throw new IOException("cannot join the cluster: " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            g.shutdown(Duration.ZERO);
            throw e;
        }
        return g;
    }

    /**
     * Listens on {@link #EVENT_LOOPS} event loops: one server per verticle instance, each on its
     * own event loop, all sharing the port (Vert.x hands new connections to them in turn). A
     * configured port 0 (any free port) is given to Vert.x as -1: "one random port, shared";
     * with 0 every server would bind a port of its own.
     */
    private void listen() throws IOException {
        HttpServerOptions options = new HttpServerOptions()
                .setHost(config.host()).setPort(config.port() == 0 ? -1 : config.port())
                .setMaxHeaderSize(config.maxHeaderBytes())
                .setHandle100ContinueAutomatically(false)
                .setDecompressionSupported(false)
                // HTTP/1.1 only: with cleartext HTTP/2 on, Vert.x reports a connection only after
                // its first bytes, so Connections could neither time nor count a silent one.
                .setHttp2ClearTextEnabled(false);
        try {
            vertx.deployVerticle(() -> new HttpVerticle(options), new DeploymentOptions().setInstances(EVENT_LOOPS))
                    .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            port = servers.get(0).actualPort();
            if (servers.stream().anyMatch(s -> s.actualPort() != port)) {
                throw new IOException("the HTTP servers did not share one port: " + servers.stream()
                        .map(HttpServer::actualPort).toList());
            }
        } catch (ExecutionException e) {
            throw new IOException("cannot listen on " + config.host() + ":" + config.port() + ": "
                    + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new IOException("listening on " + config.host() + ":" + config.port() + " did not finish", e);
        }
    }

    /** One HTTP server on the verticle's own event loop, serving the shared router. */
    private final class HttpVerticle extends AbstractVerticle {
        private final HttpServerOptions options;

        HttpVerticle(HttpServerOptions options) {
            this.options = options;
        }

        @Override
        public void start(Promise<Void> started) {
            vertx.createHttpServer(options).connectionHandler(connections::accept).requestHandler(router)
                    .invalidRequestHandler(Gateway::invalidRequest)
                    .listen().onSuccess(s -> {
                        servers.add(s);
                        started.complete();
                    }).onFailure(started::fail);
        }
    }

    /** The routes, in one place. Each is named by its OpenAPI path template (used as the metrics' route label). */
    private Router routes() {
        Router r = Router.router(vertx);
        r.route().handler(this::begin);

        Handler<RoutingContext> management = this::requireToken;
        named(r.put("/v1/functions/:name"), "/v1/functions/{name}").handler(management).handler(functions::deploy);
        named(r.get("/v1/functions"), "/v1/functions").handler(management).handler(functions::list);
        named(r.get("/v1/functions/:name"), "/v1/functions/{name}").handler(management).handler(functions::describe);
        named(r.delete("/v1/functions/:name"), "/v1/functions/{name}").handler(management).handler(functions::delete);
        named(r.get("/v1/functions/:name/logs"), "/v1/functions/{name}/logs").handler(management).handler(logs::logs);
        named(r.get("/v1/calls/:id"), "/v1/calls/{id}").handler(management).handler(calls::status);
        named(r.get("/v1/functions/:name/dead-letters"), "/v1/functions/{name}/dead-letters").handler(management)
                .handler(calls::deadLetters);
        named(r.post("/v1/functions/:name/dead-letters/redrive"), "/v1/functions/{name}/dead-letters/redrive")
                .handler(management).handler(calls::redrive);
        named(r.put("/v1/schedules/:name"), "/v1/schedules/{name}").handler(management).handler(schedules::put);
        named(r.get("/v1/schedules"), "/v1/schedules").handler(management).handler(schedules::list);
        named(r.get("/v1/schedules/:name"), "/v1/schedules/{name}").handler(management).handler(schedules::get);
        named(r.delete("/v1/schedules/:name"), "/v1/schedules/{name}").handler(management)
                .handler(schedules::delete);
        named(r.post("/v1/jobs"), "/v1/jobs").handler(management).handler(jobsApi::submit);
        named(r.get("/v1/jobs"), "/v1/jobs").handler(management).handler(jobsApi::list);
        named(r.get("/v1/jobs/:id"), "/v1/jobs/{id}").handler(management).handler(jobsApi::get);
        named(r.get("/v1/jobs/:id/progress"), "/v1/jobs/{id}/progress").handler(management).handler(jobsApi::progress);
        named(r.get("/v1/jobs/:id/results"), "/v1/jobs/{id}/results").handler(management).handler(jobsApi::results);
        named(r.get("/v1/jobs/:id/failures"), "/v1/jobs/{id}/failures").handler(management).handler(jobsApi::failures);
        named(r.post("/v1/jobs/:id/cancel"), "/v1/jobs/{id}/cancel").handler(management).handler(jobsApi::cancel);
        named(r.post("/v1/jobs/:id/redrive"), "/v1/jobs/{id}/redrive").handler(management).handler(jobsApi::redrive);
        named(r.post("/v1/topics/:topic"), "/v1/topics/{topic}").handler(management).handler(topics::publish);
        named(r.get("/v1/topics"), "/v1/topics").handler(management).handler(topics::list);
        named(r.put("/v1/topics/:topic/subscriptions/:name"), "/v1/topics/{topic}/subscriptions/{name}")
                .handler(management).handler(topics::subscribe);
        named(r.delete("/v1/topics/:topic/subscriptions/:name"), "/v1/topics/{topic}/subscriptions/{name}")
                .handler(management).handler(topics::unsubscribe);

        // Invoke routes check the token themselves: a public function needs none.
        named(r.route("/function/:name"), "/function/{name}").handler(triggers::sync);
        named(r.route("/function/:name/*"), "/function/{name}/{path}").handler(triggers::sync);
        named(r.post("/async-function/:name"), "/async-function/{name}").handler(triggers::async);

        named(r.get("/healthz"), "/healthz").handler(health::healthz);
        named(r.get("/metrics"), "/metrics").handler(health::metrics);
        named(r.get("/openapi.json"), "/openapi.json").handler(health::openapi);

        r.route().failureHandler(this::failure);
        r.errorHandler(404, ctx -> Replies.error(ctx, ApiError.notFound("no route for " + ctx.request().method()
                + " " + ctx.request().path() + "; see /openapi.json"), 0));
        r.errorHandler(405, ctx -> Replies.error(ctx, new ApiError(405, "method_not_allowed",
                ctx.request().method() + " is not allowed on " + ctx.request().path()), 0));
        r.errorHandler(500, this::failure);
        return r;
    }

    private static Route named(Route route, String name) {
        return route.setName(name).handler(ctx -> {
            ctx.put(ROUTE, name);
            ctx.next();
        });
    }

    /** Every request: its start time, its metrics at the end, and a refusal while draining. */
    private void begin(RoutingContext ctx) {
        long start = System.nanoTime();
        ctx.put(Triggers.START, start);
        ctx.addEndHandler(v -> {
            String route = ctx.get(ROUTE);
            metrics.request(route == null ? "unmatched" : route, ctx.request().method().name(),
                    ctx.response().getStatusCode(), System.nanoTime() - start);
        });
        ctx.response().putHeader(Forwarder.NODE, config.queue().node());
        if (draining && !ctx.request().path().equals("/healthz")) {
            if (ctx.request().getHeader(Forwarder.INTERNAL) != null) {
                // A peer that has not yet seen this node draining: it takes the call elsewhere.
                ctx.response().putHeader(Forwarder.ELSEWHERE, "draining");
            }
            ctx.response().putHeader("Connection", "close");
            Replies.error(ctx, new ApiError(503, "shutting_down", "the platform is shutting down", null,
                    Duration.ofSeconds(5)), 0);
            return;
        }
        ctx.next();
    }

    private void requireToken(RoutingContext ctx) {
        auth.require(ctx.request().getHeader("Authorization"));
        ctx.next();
    }

    /** Failures: an {@link ApiError} is answered as it says; anything else is a 500 without details. */
    private void failure(RoutingContext ctx) {
        Throwable t = ctx.failure();
        ApiError e;
        if (t instanceof ApiError a) {
            e = a;
        } else if (t == null) {
            int status = ctx.statusCode() < 400 ? 500 : ctx.statusCode();
            e = new ApiError(status, status == 413 ? "payload_too_large" : status >= 500 ? "internal_error"
                    : "bad_request", "the request failed with HTTP " + status);
        } else {
            LOG.log(System.Logger.Level.ERROR, "request " + ctx.request().method() + " " + ctx.request().path()
                    + " failed", t);
            e = new ApiError(500, "internal_error", "the request failed inside the platform; see the gateway's log");
        }
        if (ctx.response().headWritten()) {
            // A stream already under way (NDJSON): nothing can be said any more but its end.
            if (!ctx.response().ended() && !ctx.response().closed()) {
                ctx.response().end();
            }
        } else if (e.status() == 413 && !ctx.request().isEnded()) {
            Replies.errorAndClose(ctx, e, 0); // the body was refused unread
        } else {
            Replies.error(ctx, e, 0);
        }
    }

    /** Requests Netty could not parse (headers or request line too long, bad syntax): answered in JSON, then closed. */
    private static void invalidRequest(HttpServerRequest request) {
        Throwable cause = request.decoderResult().cause();
        int status = 400;
        String code = "bad_request";
        String message = "the request could not be parsed";
        if (cause instanceof TooLongFrameException) {
            String m = String.valueOf(cause.getMessage());
            if (cause.getClass().getSimpleName().equals("TooLongHttpHeaderException")) {
                status = 431;
                code = "header_too_large";
                message = "the request headers are larger than the limit (" + m + ")";
            } else if (cause.getClass().getSimpleName().equals("TooLongHttpLineException")) {
                status = 414;
                code = "uri_too_long";
                message = "the request line is larger than the limit (" + m + ")";
            }
        }
        request.response().setStatusCode(status).putHeader("Content-Type", Replies.JSON)
                .putHeader("Connection", "close")
                .end(Json.buffer(Json.object().set("error", Json.object().put("code", code).put("message", message))));
        request.response().close();
    }

    // ---- accessors ----------------------------------------------------------------------

    /** The port the server listens on (the chosen one if the config said 0). */
    public int port() {
        return port;
    }

    /** How many event loops serve HTTP (one server each, all on {@link #port()}). */
    public int eventLoops() {
        return servers.size();
    }

    public String url() {
        String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return "http://" + host + ":" + port();
    }

    public TokenFile token() {
        return token;
    }

    public Invoker invoker() {
        return invoker;
    }

    public EventQueue queue() {
        return queue;
    }

    /** Null on a single node. */
    public Cluster cluster() {
        return cluster;
    }

    /** This node's load as its heartbeat publishes it and /healthz shows it: the pool's numbers. */
    private ObjectNode load() {
        CallDispatcher.PoolState p = invoker.poolState();
        return Json.object().put("callsInFlight", p.inFlight()).put("queuedCalls", p.queued())
                .put("liveInstances", p.liveInstances()).put("memoryReservedMib", p.reservedMib())
                .put("memoryBudgetMib", p.budgetMib());
    }

    /** The connection limits at work: per-address counts, closes by reason. */
    public Connections connections() {
        return connections;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    public Router router() {
        return router;
    }

    public GatewayConfig config() {
        return config;
    }

    // ---- shutdown -----------------------------------------------------------------------

    /**
     * Graceful: new requests get 503, calls in flight get up to {@code drain} to finish (the
     * invoker's shutdown), their answers are written, then the server and Vert.x close.
     */
    public void shutdown(Duration drain) {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        draining = true;
        long start = System.nanoTime();
        if (cluster != null) {
            cluster.drain(); // peers stop sending calls here
        }
        // Queue work not yet started stays queued (durably) for the next start or another node;
        // what runs drains.
        scheduler.close();
        if (catalogSync != null) {
            catalogSync.close();
        }
        queue.stopClaiming();
        invoker.shutdown(drain);
        queue.awaitIdle(Duration.ofSeconds(5));
        // Calls this node sent to peers are answered there: give them the drain too.
        long deadline = start + Math.max(Duration.ofSeconds(2).toNanos(), drain.toNanos());
        // In a cluster the listener stays open for two heartbeats at least: peers that have not
        // yet read "draining" still forward calls here, and must get "elsewhere", not a closed
        // connection; clients on kept-alive connections get 503 shutting_down and move on.
        long listenUntil = cluster == null ? start
                : start + config.cluster().heartbeat().multipliedBy(2).plusMillis(500).toNanos();
        while ((triggers.inFlight() > 0 || System.nanoTime() < listenUntil) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        try {
            for (HttpServer server : servers) {
                server.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
            }
            jobs.close();
            if (cluster != null) {
                cluster.close(); // what still runs goes back to the queue for the peers; the row says stopped
            }
            queue.close();
            callbacks.close();
            workers.close();
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.log(System.Logger.Level.WARNING, "closing the HTTP server: " + e);
        }
        registry.close();
        LOG.log(System.Logger.Level.INFO, "gateway stopped in " + (System.nanoTime() - start) / 1_000_000 + " ms");
    }

    /** Whether {@link #shutdown} has begun. */
    public boolean stopped() {
        return closing.get();
    }

    @Override
    public void close() {
        shutdown(config.drain());
    }
}
