package io.kiln.queue.topic;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Which events a subscription receives: every condition holds (an empty filter takes every
 * event). A condition is an attribute's exact value, or a prefix of it; an event without the
 * attribute matches no condition on it.
 *
 * <p>As JSON (the API's and the store's form): {@code {"type": "order.cancelled",
 * "subject": {"prefix": "eu/"}}}, attribute names as CloudEvents spells them (context
 * attributes or extensions).
 */
public record Filter(List<Condition> conditions) {

    public static final Filter ALL = new Filter(List.of());
    /**
     * Reads numbers exactly ({@code 34.00} stays {@code 34.00}, not the double {@code 34.0}): an
     * event's data passes through it and must arrive as it was sent.
     */
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .setNodeFactory(com.fasterxml.jackson.databind.node.JsonNodeFactory.withExactBigDecimals(true));
    /** Enough for any real filter; keeps a subscription row small. */
    public static final int MAX_CONDITIONS = 20;

    /** {@code attribute} equals {@code value}, or (prefix) starts with it. */
    public record Condition(String attribute, String value, boolean prefix) {
        public Condition {
            if (!CloudEvent.validName(attribute) || attribute.equals("specversion") || attribute.equals("data")) {
                throw new IllegalArgumentException("a filter's attribute is a CloudEvents attribute name (lower-case"
                        + " letters and digits; not specversion or data), got \"" + attribute + "\"");
            }
            if (value == null || (prefix && value.isEmpty())) {
                throw new IllegalArgumentException("the filter on " + attribute + " needs a "
                        + (prefix ? "non-empty prefix" : "value"));
            }
        }

        boolean matches(CloudEvent e) {
            String v = e.attribute(attribute);
            return v != null && (prefix ? v.startsWith(value) : v.equals(value));
        }
    }

    public Filter {
        conditions = List.copyOf(conditions);
        if (conditions.size() > MAX_CONDITIONS) {
            throw new IllegalArgumentException("a filter has at most " + MAX_CONDITIONS + " conditions, got "
                    + conditions.size());
        }
    }

    public boolean matches(CloudEvent e) {
        for (Condition c : conditions) {
            if (!c.matches(e)) {
                return false;
            }
        }
        return true;
    }

    /** From the JSON form; null or {@code {}} is {@link #ALL}. Throws with a message the API returns as is. */
    public static Filter of(JsonNode json) {
        if (json == null || json.isNull()) {
            return ALL;
        }
        if (!json.isObject()) {
            throw new IllegalArgumentException("filters must be a JSON object like {\"type\": \"order.created\","
                    + " \"subject\": {\"prefix\": \"eu/\"}}");
        }
        List<Condition> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = json.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            JsonNode v = f.getValue();
            if (v.isTextual()) {
                out.add(new Condition(f.getKey(), v.asText(), false));
            } else if (v.isObject() && v.size() == 1 && v.path("prefix").isTextual()) {
                out.add(new Condition(f.getKey(), v.get("prefix").asText(), true));
            } else {
                throw new IllegalArgumentException("the filter on " + f.getKey() + " must be a string (an exact"
                        + " value) or {\"prefix\": \"...\"}");
            }
        }
        return new Filter(out);
    }

    public static Filter parse(String json) {
        try {
            return of(MAPPER.readTree(json));
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("filters are not JSON: " + e.getMessage());
        }
    }

    public ObjectNode toJson() {
        ObjectNode o = MAPPER.createObjectNode();
        for (Condition c : conditions) {
            if (c.prefix()) {
                o.putObject(c.attribute()).put("prefix", c.value());
            } else {
                o.put(c.attribute(), c.value());
            }
        }
        return o;
    }
}
