package io.kiln.gateway.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.gateway.cluster.Cluster;
import io.kiln.gateway.cluster.Membership;
import io.kiln.gateway.http.Json;
import io.kiln.queue.cluster.NodeRow;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.function.Supplier;
import io.kiln.gateway.http.Replies;
import io.kiln.gateway.events.EventQueue;
import io.kiln.invoker.JailChoice;
import io.kiln.invoker.Invoker;
import io.kiln.queue.QueueStore;
import io.kiln.invoker.call.CallDispatcher;
import io.kiln.invoker.engine.EngineChoice;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.function.BooleanSupplier;

/** {@code /healthz}, {@code /metrics} and {@code /openapi.json}: no token needed. */
public final class HealthApi {

    public static final String OPENAPI_RESOURCE = "/io/kiln/gateway/openapi.json";
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final Invoker invoker;
    private final EventQueue queue;
    private final PrometheusMeterRegistry registry;
    private final BooleanSupplier draining;
    private final Buffer openapi;
    /** Null on a single node. */
    private final Cluster cluster;
    private final Supplier<ObjectNode> load;

    public HealthApi(Invoker invoker, EventQueue queue, PrometheusMeterRegistry registry, BooleanSupplier draining,
                     Cluster cluster, Supplier<ObjectNode> load) {
        this.invoker = invoker;
        this.cluster = cluster;
        this.load = load;
        this.queue = queue;
        this.registry = registry;
        this.draining = draining;
        this.openapi = Buffer.buffer(openapiDocument());
    }

    /** The hand-written OpenAPI document, from the classpath. */
    public static byte[] openapiDocument() {
        try (InputStream in = HealthApi.class.getResourceAsStream(OPENAPI_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(OPENAPI_RESOURCE + " is missing from the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The platform's version (its kiln-function-api's), from a resource the build filters. */
    static final String VERSION = version();

    private static String version() {
        try (InputStream in = HealthApi.class.getResourceAsStream("/io/kiln/gateway/kiln-gateway.properties")) {
            if (in == null) {
                return "unknown";
            }
            java.util.Properties p = new java.util.Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The version, the engine in use and why, what backs /dev/kvm, whether VMs are jailed and why, the pool, the number of functions. 503 while draining. */
    public void healthz(RoutingContext ctx) {
        EngineChoice e = invoker.engine();
        CallDispatcher.PoolState p = invoker.poolState();
        boolean closing = draining.getAsBoolean();
        ObjectNode h = Json.object().put("status", closing ? "shutting_down" : "ok").put("version", VERSION);
        h.putObject("engine").put("name", e.engine().name()).put("isolated", e.engine().isolated())
                .put("reason", e.reason());
        h.putObject("kvm").put("kind", e.probe().kind().name()).put("reason", e.probe().reason());
        JailChoice jail = invoker.jail();
        h.putObject("jail").put("enabled", jail.enabled()).put("mode", jail.mode()).put("cgroup", jail.cgroup())
                .put("why", jail.why());
        h.putObject("pool").put("budgetMib", p.budgetMib()).put("reservedMib", p.reservedMib())
                .put("idleMib", p.idleMib()).put("liveInstances", p.liveInstances()).put("queued", p.queued())
                .put("inFlight", p.inFlight());
        h.put("functions", invoker.list().size());
        QueueStore.Stats q = queue.stats();
        h.putObject("queue").put("store", queue.describe()).put("node", queue.config().node())
                .put("available", q.available()).put("running", q.running()).put("dead", q.dead())
                .put("oldestAvailable", q.oldestAvailable() == null ? null : q.oldestAvailable().toString());
        h.put("node", queue.config().node());
        h.set("nodes", nodes(closing));
        Replies.json(ctx, closing ? 503 : 200, h);
    }

    /**
     * Every node of the cluster as the last heartbeat showed it (at most a heartbeat old), or on
     * a single node just this one, now.
     */
    private ArrayNode nodes(boolean closing) {
        ArrayNode list = Json.array();
        Membership m = cluster == null ? null : cluster.membership();
        if (m == null) {
            list.addObject().put("node", queue.config().node()).put("self", true)
                    .put("state", closing ? NodeRow.DRAINING : NodeRow.UP).put("live", !closing)
                    .put("engine", invoker.engine().engine().name()).set("load", load.get());
            return list;
        }
        Membership.View v = m.view();
        java.time.Instant now = java.time.Instant.now();
        for (NodeRow n : v.nodes()) {
            ObjectNode o = list.addObject().put("node", n.node()).put("self", n.node().equals(v.self()))
                    .put("url", n.url()).put("state", n.state()).put("live", v.live().contains(n.node()))
                    .put("engine", n.engine())
                    .put("startedAt", n.startedAt().toString())
                    .put("heartbeatAgeMs", Math.max(0, java.time.Duration.between(n.heartbeatAt(), now).toMillis()));
            o.set("load", parse(n.load()));
        }
        return list;
    }

    private static com.fasterxml.jackson.databind.JsonNode parse(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (IOException e) {
            return Json.object();
        }
    }

    public void metrics(RoutingContext ctx) {
        ctx.response().putHeader("Content-Type", PROMETHEUS_TEXT).end(registry.scrape());
    }

    public void openapi(RoutingContext ctx) {
        ctx.response().putHeader("Content-Type", Replies.JSON).end(openapi);
    }
}
