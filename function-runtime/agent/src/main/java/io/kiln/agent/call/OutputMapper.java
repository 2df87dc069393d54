package io.kiln.agent.call;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.agent.Json;
import io.kiln.agent.lambda.EventSerializers;
import io.kiln.agent.lambda.HttpEvents;
import io.kiln.function.Headers;
import io.kiln.function.HttpResponse;

import java.nio.charset.StandardCharsets;

/**
 * Maps a handler's return value to a RESULT body and metadata. By the value's runtime type:
 * {@link HttpResponse} (status and headers into {@code "http"}), {@code byte[]} and (outside
 * Lambda semantics) {@code String} raw, anything else JSON. {@code null} by the declared type:
 * an empty body for void, String, byte[]; 204 for HttpResponse; JSON {@code null} otherwise.
 * AWS event types are written as Lambda writes them ({@link EventSerializers}); an API Gateway
 * or ALB response event of a call that came over HTTP becomes that HTTP response
 * ({@link HttpEvents#response}).
 */
public final class OutputMapper {

    static final String JSON = "application/json";
    static final String TEXT = "text/plain; charset=utf-8";
    static final String BYTES = "application/octet-stream";

    /** A RESULT's body and its metadata. */
    public record Output(byte[] body, ObjectNode meta) {
    }

    /** The value cannot be a result: not writable as JSON, or not a valid HTTP response. */
    public static final class BadOutputException extends Exception {
        public BadOutputException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final ObjectMapper mapper;
    private final EventSerializers events;

    public OutputMapper(ObjectMapper mapper, EventSerializers events) {
        this.mapper = mapper;
        this.events = events;
    }

    /**
     * @param http the call came over HTTP (its INVOKE had {@code http} metadata)
     * @throws BadOutputException if the value cannot be written as JSON or as HTTP
     */
    public Output map(Object value, JavaType declared, boolean lambdaSemantics, boolean http)
            throws BadOutputException {
        ObjectNode meta = Json.object();
        Class<?> raw = declared.getRawClass();
        if (raw == void.class || raw == Void.class) {
            return new Output(new byte[0], meta);
        }
        Class<?> eventType = value != null ? value.getClass() : raw;
        if (EventSerializers.handles(eventType)) {
            return event(eventType, value, http, meta);
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
        try {
            return new Output(mapper.writeValueAsBytes(value), meta);
        } catch (JsonProcessingException e) {
            throw new BadOutputException("the result cannot be written as JSON: "
                    + e.getOriginalMessage(), e);
        }
    }

    private Output event(Class<?> type, Object value, boolean http, ObjectNode meta)
            throws BadOutputException {
        byte[] json;
        try {
            json = value == null ? "null".getBytes(StandardCharsets.UTF_8)
                    : events.write(type, value);
        } catch (RuntimeException e) {
            Throwable why = e.getCause() != null ? e.getCause() : e;
            throw new BadOutputException("the result cannot be written as JSON: " + why, e);
        }
        HttpEvents.Kind kind = HttpEvents.Kind.ofResponse(type);
        if (kind == null || !http) {
            meta.put("contentType", JSON);
            return new Output(json, meta);
        }
        HttpResponse r;
        try {
            r = HttpEvents.response(kind, mapper.readTree(json));
        } catch (IllegalArgumentException | java.io.IOException e) {
            throw new BadOutputException("the " + type.getSimpleName()
                    + " is not a valid HTTP response: " + e.getMessage(), e);
        }
        meta.set("http", HttpMapping.response(r.status(), r.headers()));
        return new Output(r.body(), meta);
    }

    /** The output of a handler that wrote to an OutputStream. */
    public static Output stream(byte[] written) {
        ObjectNode meta = Json.object().put("contentType", BYTES);
        return new Output(written, meta);
    }
}
