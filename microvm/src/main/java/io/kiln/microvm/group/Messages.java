package io.kiln.microvm.group;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The VMM host protocol's JSON lines (docs/ARCHITECTURE.md, "The VMM host process"), and checked
 * field access: a missing or mistyped field is a {@link ProtocolException}, never a null.
 */
final class Messages {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Printed on stdout once the socket listens: the control plane waits for it. */
    static final String READY = "kiln-vmm ready";
    static final Pattern VM_ID = Pattern.compile("[0-9]{1,9}");
    /** The longest error or exit detail the control plane keeps. */
    static final int MAX_TEXT = 4096;

    private Messages() {
    }

    static ObjectNode object() {
        return JSON.createObjectNode();
    }

    static JsonNode parse(String line) throws ProtocolException {
        try {
            JsonNode n = JSON.readTree(line);
            if (n == null || !n.isObject()) {
                throw new ProtocolException("not a JSON object: " + clip(line));
            }
            return n;
        } catch (JsonProcessingException e) {
            throw new ProtocolException("not JSON: " + clip(line));
        }
    }

    static String text(JsonNode n, String field) throws ProtocolException {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new ProtocolException("field " + field + " missing or not a string in " + clip(n.toString()));
        }
        return v.asText();
    }

    static int integer(JsonNode n, String field, int min, int max) throws ProtocolException {
        JsonNode v = n.get(field);
        if (v == null || !v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < min || v.asInt() > max) {
            throw new ProtocolException("field " + field + " missing or not an integer in " + min + ".." + max);
        }
        return v.asInt();
    }

    static boolean bool(JsonNode n, String field) throws ProtocolException {
        JsonNode v = n.get(field);
        if (v == null || !v.isBoolean()) {
            throw new ProtocolException("field " + field + " missing or not a boolean");
        }
        return v.asBoolean();
    }

    /** A string an untrusted side sent, for messages: bounded, control characters replaced. */
    static String clip(String s) {
        String t = s.length() > MAX_TEXT ? s.substring(0, MAX_TEXT) + "..." : s;
        return t.replaceAll("[\\p{Cntrl}&&[^\t]]", "?");
    }

    /** Writes one line; callers serialise writers on the stream. */
    static void write(OutputStream out, JsonNode message) throws IOException {
        byte[] b = (JSON.writeValueAsString(message) + "\n").getBytes(StandardCharsets.UTF_8);
        out.write(b);
        out.flush();
    }
}
