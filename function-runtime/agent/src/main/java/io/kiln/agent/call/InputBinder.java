package io.kiln.agent.call;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.agent.Json;
import io.kiln.agent.lambda.EventSerializers;
import io.kiln.agent.lambda.HttpEvents;
import io.kiln.function.HttpRequest;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Binds an INVOKE body to the handler's input type: {@code byte[]}, {@link InputStream},
 * {@link HttpRequest} and (outside Lambda semantics) {@code String} raw; AWS event types as
 * Lambda does ({@link EventSerializers}), an API Gateway or ALB request event built from the
 * {@code http} metadata when there is one ({@link HttpEvents}); anything else from JSON.
 */
public final class InputBinder {

    private final ObjectMapper mapper;
    private final EventSerializers events;

    public InputBinder(ObjectMapper mapper, EventSerializers events) {
        this.mapper = mapper;
        this.events = events;
    }

    public Object bind(JavaType type, boolean lambdaSemantics, ObjectNode meta, byte[] body,
                       HttpEvents.CallInfo call) throws BadInputException {
        Class<?> raw = type.getRawClass();
        if (EventSerializers.handles(raw)) {
            return bindEvent(raw, meta, body, call);
        }
        if (raw == byte[].class) {
            return body;
        }
        if (raw == InputStream.class) {
            return new ByteArrayInputStream(body);
        }
        if (raw == HttpRequest.class) {
            return HttpMapping.request(meta, body);
        }
        if (raw == String.class && !lambdaSemantics) {
            return new String(body, StandardCharsets.UTF_8);
        }
        if (body.length == 0) {
            if (raw.isPrimitive()) {
                throw new BadInputException("empty input for a " + raw.getName() + " parameter",
                        null);
            }
            return null; // no body: no event, like Lambda's null input
        }
        try {
            return mapper.readValue(body, type);
        } catch (IOException e) {
            String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j
                    ? j.getOriginalMessage() : e.getMessage();
            throw new BadInputException("input does not bind to " + type.toCanonical() + ": "
                    + why, e);
        }
    }

    private Object bindEvent(Class<?> raw, ObjectNode meta, byte[] body, HttpEvents.CallInfo call)
            throws BadInputException {
        HttpEvents.Kind kind = HttpEvents.Kind.ofRequest(raw);
        byte[] json = body;
        if (kind != null && meta.hasNonNull("http")) {
            HttpRequest request = HttpMapping.request(meta, body);
            json = Json.write(HttpEvents.request(kind, request, call))
                    .getBytes(StandardCharsets.UTF_8);
        } else if (body.length == 0) {
            return null;
        }
        try {
            return events.read(raw, json);
        } catch (RuntimeException e) {
            // AWS's serializer wraps its (relocated) Jackson's exceptions in unchecked ones.
            Throwable why = e.getCause() != null ? e.getCause() : e;
            throw new BadInputException("input does not bind to " + raw.getName() + ": "
                    + why.getMessage(), e);
        }
    }
}
