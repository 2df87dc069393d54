package io.kiln.invoker.store;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.queue.Destination;
import io.kiln.queue.EventPolicy;
import io.kiln.queue.RetryPolicy;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * The on-disk form of a {@link FunctionVersion}: {@code functions/<name>/v<N>.json}. Instants
 * and durations are plain millisecond numbers, so the file needs no Jackson time module and
 * reads the same in any tool. The same text is a version's config in a cluster's shared catalog
 * ({@link #toJson}, {@link #fromJson}), so every node reads a version exactly as its own store would.
 */
public final class VersionFile {

    /**
     * Strict: a field that is missing or null, or trailing text, makes the file unreadable
     * rather than quietly becoming a zero that then passes for a real value.
     */
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private VersionFile() {
    }

    /** The version as the catalog stores it: the version file's text. */
    public static String toJson(FunctionVersion v) {
        return new String(write(v), java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * A version from its version file's text.
     *
     * @throws IllegalArgumentException if the text is not a valid version
     */
    public static FunctionVersion fromJson(String json) {
        try {
            return read(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalArgumentException("not a function version: " + e.getMessage(), e);
        }
    }

    static byte[] write(FunctionVersion v) {
        FunctionConfig c = v.config();
        RetryPolicy r = c.events().retry();
        Events events = new Events(r.maxRetries(), r.backoffBase().toMillis(), r.backoffMax().toMillis(),
                r.maxAge().toMillis(), destination(c.events().onSuccess()), destination(c.events().onFailure()));
        Config config = new Config(c.handler(), c.memoryMib(), c.timeout().toMillis(), c.env(),
                c.maxConcurrency(), c.minInstances(), c.maxInstances(), c.keepAlive().toMillis(),
                c.publicInvoke(), events);
        try {
            return MAPPER.writeValueAsBytes(new Version(v.name(), v.version(), v.jarSha256(),
                    v.jarSize(), config, v.createdAt().toEpochMilli()));
        } catch (IOException e) {
            throw new IllegalStateException("records of strings and numbers always serialise", e);
        }
    }

    /**
     * @throws IOException              if the bytes are not a version file
     * @throws IllegalArgumentException if they are, but hold a value no version may have
     */
    static FunctionVersion read(byte[] json) throws IOException {
        JsonNode tree = MAPPER.readTree(json);
        if (tree == null || tree.isNull()) {
            throw new IOException("the file holds null");
        }
        // Files written before event policies existed have none: they get the default one.
        if (tree.get("config") instanceof ObjectNode config && !config.has("events")) {
            config.set("events", MAPPER.valueToTree(DEFAULT_EVENTS));
        }
        Version v = MAPPER.treeToValue(tree, Version.class);
        Config c = v.config();
        Events e = c.events();
        EventPolicy events = new EventPolicy(new RetryPolicy(e.maxRetries(), Duration.ofMillis(e.backoffMs()),
                Duration.ofMillis(e.maxBackoffMs()), Duration.ofMillis(e.maxEventAgeMs())),
                destination("onSuccess", e.onSuccess()), destination("onFailure", e.onFailure()));
        FunctionConfig config = new FunctionConfig(c.handler(), c.memoryMib(),
                Duration.ofMillis(c.timeoutMs()), c.env(), c.maxConcurrency(), c.minInstances(),
                c.maxInstances(), Duration.ofMillis(c.keepAliveMs()), c.publicInvoke(), events);
        return new FunctionVersion(v.name(), v.version(), v.jarSha256(), v.jarSize(), config,
                Instant.ofEpochMilli(v.createdAtMs()));
    }

    private record Version(String name, long version, String jarSha256, long jarSize,
                           Config config, long createdAtMs) {
    }

    private record Config(String handler, int memoryMib, long timeoutMs, Map<String, String> env,
                          int maxConcurrency, int minInstances, int maxInstances, long keepAliveMs,
                          boolean publicInvoke, Events events) {
    }

    /** A destination is its text ({@code function:NAME} or a URL), or "" for none: the strict reader takes no nulls. */
    private record Events(int maxRetries, long backoffMs, long maxBackoffMs, long maxEventAgeMs, String onSuccess,
                          String onFailure) {
    }

    private static final Events DEFAULT_EVENTS;

    static {
        RetryPolicy r = EventPolicy.DEFAULT.retry();
        DEFAULT_EVENTS = new Events(r.maxRetries(), r.backoffBase().toMillis(), r.backoffMax().toMillis(),
                r.maxAge().toMillis(), "", "");
    }

    private static String destination(Destination d) {
        return d == null ? "" : d.toString();
    }

    private static Destination destination(String field, String text) {
        return text.isEmpty() ? null : Destination.parse(field, text);
    }
}
