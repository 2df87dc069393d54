package io.kiln.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/** The agent's one ObjectMapper, for metadata and for binding call inputs and outputs. */
public final class Json {

    /**
     * Lenient on input the way Lambda's serializer is (unknown properties are ignored, so an
     * event with more fields than the POJO still binds), strict on nothing else. java.time
     * values travel as ISO-8601 strings ({@code "2026-11-21"}, {@code "2026-11-21T09:30:00Z"}),
     * not as numbers or arrays.
     */
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .configure(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS, false)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .configure(SerializationFeature.FAIL_ON_EMPTY_BEANS, false);

    private Json() {
    }

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    /** Metadata text for a frame. */
    public static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serialises", e);
        }
    }

    /**
     * Parses frame metadata, which must be a JSON object (or empty, meaning {@code {}}).
     *
     * @throws BadMetadataException if it is not
     */
    public static ObjectNode metadata(String text) {
        if (text.isEmpty()) {
            return object();
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new BadMetadataException("metadata is not JSON: " + e.getOriginalMessage());
        }
        if (!(node instanceof ObjectNode o)) {
            throw new BadMetadataException("metadata is not a JSON object");
        }
        return o;
    }

    /** Frame metadata that is well-formed UTF-8 but not what the protocol requires. */
    public static final class BadMetadataException extends RuntimeException {
        public BadMetadataException(String message) {
            super(message);
        }
    }
}
