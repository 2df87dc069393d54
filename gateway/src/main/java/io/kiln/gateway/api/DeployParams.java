package io.kiln.gateway.api;

import io.kiln.gateway.http.ApiError;
import io.kiln.invoker.store.FunctionConfig;
import io.kiln.queue.Destination;
import io.kiln.queue.EventPolicy;
import io.kiln.queue.RetryPolicy;
import io.vertx.core.MultiMap;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A deploy's configuration from its query parameters (docs/API.md): {@code handler} (required),
 * {@code memory}, {@code timeout}, {@code keepAlive}, {@code env} (repeated, {@code K=V}),
 * {@code maxConcurrency}, {@code minInstances}, {@code maxInstances}, {@code public}, and the event
 * policy: {@code maxRetries}, {@code retryBackoff}, {@code maxRetryBackoff}, {@code maxEventAge},
 * {@code onSuccess}, {@code onFailure}. What is
 * left out takes {@link FunctionConfig#of}'s default. Unknown or repeated parameters are
 * refused, so a typo never deploys a function with a silently default setting.
 */
public final class DeployParams {

    static final List<String> KNOWN = List.of("handler", "memory", "timeout", "keepAlive", "env", "maxConcurrency",
            "minInstances", "maxInstances", "public", "maxRetries", "retryBackoff", "maxRetryBackoff", "maxEventAge",
            "onSuccess", "onFailure");
    private static final Pattern DURATION = Pattern.compile("(\\d{1,12})(ms|s|m|h)?");

    private DeployParams() {
    }

    public static FunctionConfig parse(MultiMap params) {
        for (String name : params.names()) {
            if (!KNOWN.contains(name)) {
                throw ApiError.badRequest("unknown parameter '" + name + "'; a deploy takes "
                        + String.join(", ", KNOWN));
            }
            if (!name.equals("env") && params.getAll(name).size() > 1) {
                throw ApiError.badRequest("parameter '" + name + "' is given more than once");
            }
        }
        String handler = params.get("handler");
        if (handler == null || handler.isBlank()) {
            throw ApiError.badRequest("parameter 'handler' is required, like handler=com.example.Fn");
        }
        try {
            FunctionConfig c = FunctionConfig.of(handler);
            String v;
            if ((v = params.get("memory")) != null) {
                c = c.withMemoryMib(integer("memory", v));
            }
            if ((v = params.get("timeout")) != null) {
                c = c.withTimeout(duration("timeout", v));
            }
            if ((v = params.get("keepAlive")) != null) {
                c = c.withKeepAlive(duration("keepAlive", v));
            }
            if ((v = params.get("maxConcurrency")) != null) {
                c = c.withMaxConcurrency(integer("maxConcurrency", v));
            }
            // min before max would be checked against the default max: set max first when both move.
            String min = params.get("minInstances");
            String max = params.get("maxInstances");
            if (max != null) {
                int m = integer("maxInstances", max);
                c = min == null ? c.withMaxInstances(m) : c.withMinInstances(0).withMaxInstances(m);
            }
            if (min != null) {
                c = c.withMinInstances(integer("minInstances", min));
            }
            if ((v = params.get("public")) != null) {
                c = c.withPublicInvoke(bool("public", v));
            }
            List<String> env = params.getAll("env");
            if (!env.isEmpty()) {
                c = c.withEnv(env(env));
            }
            return c.withEvents(events(params, c.events()));
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
    }

    /** The event policy's parameters over {@code base}; the cap moves first so that a larger backoff fits. */
    static EventPolicy events(MultiMap params, EventPolicy base) {
        RetryPolicy r = base.retry();
        String v;
        int retries = (v = params.get("maxRetries")) == null ? r.maxRetries() : integer("maxRetries", v);
        Duration backoff = (v = params.get("retryBackoff")) == null ? r.backoffBase() : duration("retryBackoff", v);
        Duration cap = (v = params.get("maxRetryBackoff")) == null ? null : duration("maxRetryBackoff", v);
        if (cap == null) {
            cap = backoff.compareTo(r.backoffMax()) > 0 ? backoff : r.backoffMax();
        }
        Duration age = (v = params.get("maxEventAge")) == null ? r.maxAge() : duration("maxEventAge", v);
        EventPolicy e = base.withRetry(new RetryPolicy(retries, backoff, cap, age));
        if ((v = params.get("onSuccess")) != null) {
            e = e.withOnSuccess(v.isBlank() ? null : Destination.parse("onSuccess", v));
        }
        if ((v = params.get("onFailure")) != null) {
            e = e.withOnFailure(v.isBlank() ? null : Destination.parse("onFailure", v));
        }
        return e;
    }

    static int integer(String name, String v) {
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw ApiError.badRequest(name + " must be a whole number, got \"" + v + "\"");
        }
    }

    static boolean bool(String name, String v) {
        return switch (v.strip()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw ApiError.badRequest(name + " must be true or false, got \"" + v + "\"");
        };
    }

    /** Milliseconds ({@code 1500}) or a number with a unit: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}. */
    public static Duration duration(String name, String v) {
        Matcher m = DURATION.matcher(v.strip());
        if (!m.matches()) {
            throw ApiError.badRequest(name + " must be milliseconds or a duration like 500ms, 30s, 5m, 1h; got \""
                    + v + "\"");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "ms" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    static Map<String, String> env(List<String> entries) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String e : entries) {
            int eq = e.indexOf('=');
            if (eq <= 0) {
                // The entry is not echoed: it may be a secret pasted without its name.
                throw ApiError.badRequest("env must be NAME=value, got an entry " + (eq == 0 ? "with no name before '='"
                        : "with no '='") + " (" + e.length() + " characters)");
            }
            String key = e.substring(0, eq);
            if (env.put(key, e.substring(eq + 1)) != null) {
                throw ApiError.badRequest("env " + key + " is given more than once");
            }
        }
        return env;
    }
}
