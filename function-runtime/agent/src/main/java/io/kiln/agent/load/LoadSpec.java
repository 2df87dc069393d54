package io.kiln.agent.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.agent.Json;
import io.kiln.agent.log.LogRouter;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * LOAD metadata, validated.
 *
 * @param handler       {@code com.example.Fn} or {@code com.example.Fn::method}
 * @param function      function name (for the context)
 * @param version       function version
 * @param env           the function's environment
 * @param timeoutMs     default per-call deadline when INVOKE has none
 * @param initTimeoutMs deadline for class loading, static init and priming
 * @param memoryMb      memory size reported to Lambda contexts
 * @param logLimitBytes per-call (and per-init) log cap
 */
public record LoadSpec(String handler, String function, String version, Map<String, String> env,
                       long timeoutMs, long initTimeoutMs, int memoryMb, long logLimitBytes) {

    public static final long DEFAULT_TIMEOUT_MS = 30_000;
    public static final long DEFAULT_INIT_TIMEOUT_MS = 120_000;

    /** @throws Json.BadMetadataException on a missing handler or a field of the wrong type */
    public static LoadSpec parse(ObjectNode m) {
        JsonNode handler = m.get("handler");
        if (handler == null || !handler.isTextual() || handler.asText().isBlank()) {
            throw new Json.BadMetadataException("LOAD needs \"handler\": \"com.example.Fn[::method]\"");
        }
        Map<String, String> env = new LinkedHashMap<>();
        JsonNode e = m.get("env");
        if (e != null && !e.isNull()) {
            if (!e.isObject()) {
                throw new Json.BadMetadataException("\"env\" must be an object of strings");
            }
            for (Map.Entry<String, JsonNode> v : e.properties()) {
                if (!v.getValue().isTextual()) {
                    throw new Json.BadMetadataException("env value of " + v.getKey()
                            + " must be a string");
                }
                env.put(v.getKey(), v.getValue().asText());
            }
        }
        long defaultMemory = Runtime.getRuntime().maxMemory() / (1024 * 1024);
        return new LoadSpec(handler.asText().trim(),
                text(m, "function", "function"),
                text(m, "version", "0"),
                Map.copyOf(env),
                positive(m, "timeoutMs", DEFAULT_TIMEOUT_MS),
                positive(m, "initTimeoutMs", DEFAULT_INIT_TIMEOUT_MS),
                Math.toIntExact(positive(m, "memoryMb", defaultMemory, Integer.MAX_VALUE)),
                positive(m, "logLimitBytes", LogRouter.DEFAULT_LIMIT));
    }

    static String text(ObjectNode m, String key, String fallback) {
        JsonNode n = m.get(key);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isTextual()) {
            throw new Json.BadMetadataException("\"" + key + "\" must be a string");
        }
        return n.asText();
    }

    /** A positive integer field, or the fallback when absent. */
    public static long positive(ObjectNode m, String key, long fallback) {
        return positive(m, key, fallback, Long.MAX_VALUE);
    }

    /** A positive integer no larger than {@code max}: a value that would wrap is refused, not cut. */
    public static long positive(ObjectNode m, String key, long fallback, long max) {
        JsonNode n = m.get(key);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.canConvertToLong() || !n.isIntegralNumber() || n.asLong() <= 0 || n.asLong() > max) {
            throw new Json.BadMetadataException("\"" + key + "\" must be a positive integer"
                    + (max < Long.MAX_VALUE ? " up to " + max : ""));
        }
        return n.asLong();
    }

    /** The class part of {@link #handler}. */
    public String className() {
        int i = handler.indexOf("::");
        return i < 0 ? handler : handler.substring(0, i);
    }

    /** The method part of {@link #handler}, or null. */
    public String methodName() {
        int i = handler.indexOf("::");
        return i < 0 ? null : handler.substring(i + 2);
    }
}
