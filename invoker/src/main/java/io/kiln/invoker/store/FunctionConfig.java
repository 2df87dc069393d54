package io.kiln.invoker.store;

import io.kiln.queue.Destination;
import io.kiln.queue.EventPolicy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * How to run one version of a function. Validated on construction; the messages reach users
 * over HTTP, so each names the field, the value given and what is allowed.
 *
 * <p>Durations are kept to whole milliseconds, the unit they are stored in, so a config read
 * back from disk equals the one that was written.
 *
 * @param handler        {@code com.example.Fn} or {@code com.example.Fn::method}
 * @param memoryMib      guest memory
 * @param timeout        per-call deadline
 * @param env            the function's environment, iterated in name order
 * @param maxConcurrency calls in flight for the function, across all its instances
 * @param minInstances   instances kept warm even when idle
 * @param maxInstances   instances the function may have at once
 * @param keepAlive      how long an idle instance above {@code minInstances} is kept
 * @param publicInvoke   whether callers without credentials may invoke it
 * @param events         retries, dead letters and destinations of its event-driven calls
 */
public record FunctionConfig(String handler, int memoryMib, Duration timeout, Map<String, String> env,
                             int maxConcurrency, int minInstances, int maxInstances, Duration keepAlive,
                             boolean publicInvoke, EventPolicy events) {

    private static final Pattern HANDLER =
            Pattern.compile("[A-Za-z_$][\\w$]*(\\.[A-Za-z_$][\\w$]*)*(::[A-Za-z_$][\\w$]*)?");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final int MAX_ENV_ENTRIES = 64;
    private static final int MAX_ENV_BYTES = 16 * 1024;
    private static final Duration MAX_TIMEOUT = Duration.ofMinutes(15);
    private static final Duration MAX_KEEP_ALIVE = Duration.ofHours(24);
    private static final long COUNTABLE_SECONDS = Long.MAX_VALUE / 1000 - 1;

    public FunctionConfig {
        if (handler == null || handler.isBlank()) {
            throw new IllegalArgumentException("handler must not be blank");
        }
        if (!HANDLER.matcher(handler).matches()) {
            throw new IllegalArgumentException("handler must be a class name, optionally with"
                    + " ::method (like com.example.Fn::handle), got \"" + handler + "\"");
        }
        range("memoryMib", memoryMib, 128, 16384);
        timeout = duration("timeout", timeout, Duration.ofMillis(1), MAX_TIMEOUT, "1 ms and 15 min");
        env = checkEnv(env);
        range("maxConcurrency", maxConcurrency, 1, 1000);
        range("maxInstances", maxInstances, 1, 1000);
        if (minInstances < 0 || minInstances > maxInstances) {
            throw new IllegalArgumentException("minInstances must be between 0 and maxInstances ("
                    + maxInstances + "), got " + minInstances);
        }
        keepAlive = duration("keepAlive", keepAlive, Duration.ZERO, MAX_KEEP_ALIVE, "0 and 24 h");
        if (events == null) {
            throw new IllegalArgumentException("events must not be null");
        }
        checkDestination("onSuccess", events.onSuccess());
        checkDestination("onFailure", events.onFailure());
    }

    /**
     * The record's text with the environment's values masked: they are often secrets, and a
     * config printed into a log or an exception message must not carry them.
     */
    @Override
    public String toString() {
        Map<String, String> masked = new TreeMap<>();
        env.keySet().forEach(k -> masked.put(k, "***"));
        return "FunctionConfig[handler=" + handler + ", memoryMib=" + memoryMib + ", timeout=" + timeout + ", env="
                + masked + ", maxConcurrency=" + maxConcurrency + ", minInstances=" + minInstances
                + ", maxInstances=" + maxInstances + ", keepAlive=" + keepAlive + ", publicInvoke=" + publicInvoke
                + ", events=" + events + "]";
    }

    /** Without an event policy: the default one. */
    public FunctionConfig(String handler, int memoryMib, Duration timeout, Map<String, String> env,
                          int maxConcurrency, int minInstances, int maxInstances, Duration keepAlive,
                          boolean publicInvoke) {
        this(handler, memoryMib, timeout, env, maxConcurrency, minInstances, maxInstances, keepAlive, publicInvoke,
                EventPolicy.DEFAULT);
    }

    private static void checkDestination(String field, Destination d) {
        if (d != null && d.kind() == Destination.Kind.FUNCTION) {
            try {
                FunctionStore.checkName(d.target());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(field + ": " + e.getMessage());
            }
        }
    }

    /**
     * The defaults: 256 MiB, 30 s timeout, no env, 10 calls in flight, 0 to 10 instances each
     * kept 5 min after its last call, not public, {@link EventPolicy#DEFAULT}.
     */
    public static FunctionConfig of(String handler) {
        return new FunctionConfig(handler, 256, Duration.ofSeconds(30), Map.of(),
                10, 0, 10, Duration.ofMinutes(5), false, EventPolicy.DEFAULT);
    }

    private static void range(String field, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(field + " must be between " + min + " and " + max
                    + ", got " + value);
        }
    }

    /** Truncated to whole milliseconds, the unit it is stored in, then checked. */
    private static Duration duration(String field, Duration d, Duration min, Duration max, String allowed) {
        if (d == null) {
            throw new IllegalArgumentException(field + " must not be null");
        }
        Duration ms = d.truncatedTo(ChronoUnit.MILLIS);
        if (ms.compareTo(min) < 0 || ms.compareTo(max) > 0) {
            // toMillis() would overflow past some 292 million years; Duration prints those itself.
            long s = ms.getSeconds();
            boolean countable = s > -COUNTABLE_SECONDS && s < COUNTABLE_SECONDS;
            throw new IllegalArgumentException(field + " must be between " + allowed + ", got "
                    + (countable ? ms.toMillis() + " ms" : ms.toString()));
        }
        return ms;
    }

    private static Map<String, String> checkEnv(Map<String, String> env) {
        if (env == null) {
            throw new IllegalArgumentException("env must not be null");
        }
        if (env.size() > MAX_ENV_ENTRIES) {
            throw new IllegalArgumentException("env must have at most " + MAX_ENV_ENTRIES
                    + " entries, got " + env.size());
        }
        long bytes = 0;
        for (Map.Entry<String, String> e : env.entrySet()) {
            String name = e.getKey();
            if (name == null || !ENV_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("env name must match [A-Za-z_][A-Za-z0-9_]*, got "
                        + (name == null ? "null" : "\"" + name + "\""));
            }
            if (e.getValue() == null) {
                throw new IllegalArgumentException("env value of " + name + " must not be null");
            }
            bytes += name.getBytes(StandardCharsets.UTF_8).length
                    + e.getValue().getBytes(StandardCharsets.UTF_8).length;
        }
        if (bytes > MAX_ENV_BYTES) {
            throw new IllegalArgumentException("env must be at most " + MAX_ENV_BYTES
                    + " bytes (names and values, UTF-8), got " + bytes);
        }
        // Sorted, so the version file (and anything else that prints env) is the same every time.
        return Collections.unmodifiableMap(new TreeMap<>(env));
    }

    public FunctionConfig withHandler(String handler) {
        return new FunctionConfig(handler, memoryMib, timeout, env, maxConcurrency, minInstances,
                maxInstances, keepAlive, publicInvoke, events);
    }

    public FunctionConfig withMemoryMib(int memoryMib) {
        return new FunctionConfig(handler, memoryMib, timeout, env, maxConcurrency, minInstances,
                maxInstances, keepAlive, publicInvoke, events);
    }

    public FunctionConfig withTimeout(Duration timeout) {
        return new FunctionConfig(handler, memoryMib, timeout, env, maxConcurrency, minInstances,
                maxInstances, keepAlive, publicInvoke, events);
    }

    public FunctionConfig withEnv(Map<String, String> env) {
        return new FunctionConfig(handler, memoryMib, timeout, env, maxConcurrency, minInstances,
                maxInstances, keepAlive, publicInvoke, events);
    }

    public FunctionConfig withMaxConcurrency(int maxConcurrency) {
        return new FunctionConfig(handler, memoryMib, timeout, env, maxConcurrency, minInstances,
                maxInstances, keepAlive, publicInvoke, events);
    }

    public FunctionConfig withMinInstances(int minInstances) {
        return new FunctionConfig(handler, memoryMib, timeout, env, maxConcurrency, minInstances,
                maxInstances, keepAlive, publicInvoke, events);
    }

    public FunctionConfig withMaxInstances(int maxInstances) {
        return new FunctionConfig(handler, memoryMib, timeout, env, maxConcurrency, minInstances,
                maxInstances, keepAlive, publicInvoke, events);
    }

    public FunctionConfig withKeepAlive(Duration keepAlive) {
        return new FunctionConfig(handler, memoryMib, timeout, env, maxConcurrency, minInstances,
                maxInstances, keepAlive, publicInvoke, events);
    }

    public FunctionConfig withPublicInvoke(boolean publicInvoke) {
        return new FunctionConfig(handler, memoryMib, timeout, env, maxConcurrency, minInstances,
                maxInstances, keepAlive, publicInvoke, events);
    }

    public FunctionConfig withEvents(EventPolicy events) {
        return new FunctionConfig(handler, memoryMib, timeout, env, maxConcurrency, minInstances,
                maxInstances, keepAlive, publicInvoke, events);
    }
}
