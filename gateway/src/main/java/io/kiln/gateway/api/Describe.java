package io.kiln.gateway.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.gateway.http.Json;
import io.kiln.invoker.call.CallDispatcher;
import io.kiln.invoker.store.FunctionConfig;
import io.kiln.invoker.store.FunctionVersion;
import io.kiln.queue.Destination;
import io.kiln.queue.RetryPolicy;

import java.util.List;
import java.util.Map;

/**
 * A function as {@code GET /v1/functions/{name}} shows it (docs/API.md, "Describe"). Its
 * environment's values are masked ({@link #MASKED}) unless asked for: they are often secrets,
 * and a description ends up in terminals, CI logs and bug reports. The names stay visible.
 */
final class Describe {

    /** What a masked environment value reads as. */
    static final String MASKED = "***";

    private Describe() {
    }

    /** @param revealEnv true to show the environment's values, false to mask them */
    static ObjectNode of(FunctionVersion current, List<FunctionVersion> versions, CallDispatcher.FunctionState state,
                         boolean revealEnv) {
        ObjectNode d = Json.object();
        d.put("name", current.name());
        d.put("version", current.version());
        d.put("handler", current.config().handler());
        d.set("config", config(current.config(), revealEnv));
        d.putObject("jar").put("sha256", current.jarSha256()).put("size", current.jarSize());
        d.put("createdAt", current.createdAt().toString());
        ArrayNode vs = d.putArray("versions");
        for (FunctionVersion v : versions) {
            vs.addObject().put("version", v.version()).put("createdAt", v.createdAt().toString())
                    .put("jarSha256", v.jarSha256());
        }
        ObjectNode s = d.putObject("state");
        boolean same = state != null && state.version() == current.version();
        s.put("live", same ? state.live() : 0);
        s.put("idle", same ? state.pinnedIdle() + state.cachedIdle() : 0);
        s.put("inFlight", state == null ? 0 : state.inFlight());
        s.put("queued", state == null ? 0 : state.queued());
        d.put("url", "/function/" + current.name());
        return d;
    }

    static ObjectNode config(FunctionConfig c, boolean revealEnv) {
        ObjectNode o = Json.object();
        o.put("memoryMib", c.memoryMib());
        o.put("timeoutMs", c.timeout().toMillis());
        ObjectNode env = o.putObject("env");
        for (Map.Entry<String, String> e : c.env().entrySet()) {
            env.put(e.getKey(), revealEnv ? e.getValue() : MASKED);
        }
        o.put("maxConcurrency", c.maxConcurrency());
        o.put("minInstances", c.minInstances());
        o.put("maxInstances", c.maxInstances());
        o.put("keepAliveMs", c.keepAlive().toMillis());
        o.put("public", c.publicInvoke());
        RetryPolicy r = c.events().retry();
        ObjectNode events = o.putObject("events");
        events.put("maxRetries", r.maxRetries());
        events.put("retryBackoffMs", r.backoffBase().toMillis());
        events.put("maxRetryBackoffMs", r.backoffMax().toMillis());
        events.put("maxEventAgeMs", r.maxAge().toMillis());
        destination(events, "onSuccess", c.events().onSuccess());
        destination(events, "onFailure", c.events().onFailure());
        return o;
    }

    private static void destination(ObjectNode o, String field, Destination d) {
        if (d == null) {
            o.putNull(field);
        } else {
            o.put(field, d.toString());
        }
    }
}
