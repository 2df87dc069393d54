package io.kiln.agent.call;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.function.HttpRequest;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Binds an INVOKE body to the handler's input type: {@code byte[]}, {@link InputStream},
 * {@link HttpRequest} and (outside Lambda semantics) {@code String} raw; anything else from JSON.
 */
public final class InputBinder {

    private final ObjectMapper mapper;

    public InputBinder(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    public Object bind(JavaType type, boolean lambdaSemantics, ObjectNode meta, byte[] body)
            throws BadInputException {
        Class<?> raw = type.getRawClass();
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
}
