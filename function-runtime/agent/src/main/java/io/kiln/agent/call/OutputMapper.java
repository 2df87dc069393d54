package io.kiln.agent.call;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.agent.Json;
import io.kiln.function.Headers;
import io.kiln.function.HttpResponse;

import java.nio.charset.StandardCharsets;

/**
 * Maps a handler's return value to a RESULT body and metadata. By the value's runtime type:
 * {@link HttpResponse} (status and headers into {@code "http"}), {@code byte[]} and (outside
 * Lambda semantics) {@code String} raw, anything else JSON. {@code null} by the declared type:
 * an empty body for void, String, byte[]; 204 for HttpResponse; JSON {@code null} otherwise.
 */
public final class OutputMapper {

    static final String JSON = "application/json";
    static final String TEXT = "text/plain; charset=utf-8";
    static final String BYTES = "application/octet-stream";

    /** A RESULT's body and its metadata. */
    public record Output(byte[] body, ObjectNode meta) {
    }

    private final ObjectMapper mapper;

    public OutputMapper(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /**
     * @throws JsonProcessingException if the value cannot be written as JSON
     */
    public Output map(Object value, JavaType declared, boolean lambdaSemantics)
            throws JsonProcessingException {
        ObjectNode meta = Json.object();
        Class<?> raw = declared.getRawClass();
        if (raw == void.class || raw == Void.class) {
            return new Output(new byte[0], meta);
        }
        if (value instanceof HttpResponse r) {
            meta.set("http", HttpMapping.response(r.status(), r.headers()));
            return new Output(r.body(), meta);
        }
        if (value == null && raw == HttpResponse.class) {
            meta.set("http", HttpMapping.response(204, Headers.empty()));
            return new Output(new byte[0], meta);
        }
        if (value instanceof byte[] b || (value == null && raw == byte[].class)) {
            meta.put("contentType", BYTES);
            return new Output(value == null ? new byte[0] : (byte[]) value, meta);
        }
        boolean rawString = !lambdaSemantics
                && (value instanceof String || (value == null && raw == String.class));
        if (rawString) {
            meta.put("contentType", TEXT);
            return new Output(value == null ? new byte[0]
                    : ((String) value).getBytes(StandardCharsets.UTF_8), meta);
        }
        meta.put("contentType", JSON);
        return new Output(mapper.writeValueAsBytes(value), meta);
    }

    /** The output of a handler that wrote to an OutputStream. */
    public static Output stream(byte[] written) {
        ObjectNode meta = Json.object().put("contentType", BYTES);
        return new Output(written, meta);
    }
}
