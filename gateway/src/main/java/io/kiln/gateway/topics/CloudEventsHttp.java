package io.kiln.gateway.topics;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.gateway.http.ApiError;
import io.kiln.queue.topic.CloudEvent;
import io.kiln.queue.topic.Filter;
import io.vertx.core.MultiMap;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A CloudEvents 1.0 event from an HTTP request, by the HTTP protocol binding (version 1.0.2):
 *
 * <ul>
 *   <li><b>Structured mode</b>: {@code Content-Type: application/cloudevents+json}; the body is
 *       the whole event in the JSON format, its data as {@code data} (JSON, or a string) or
 *       {@code data_base64}.</li>
 *   <li><b>Binary mode</b>: the attributes are {@code ce-<name>} headers (names are
 *       case-insensitive, values percent-decoded); the body is the data and its Content-Type is
 *       the event's {@code datacontenttype}.</li>
 * </ul>
 *
 * Batched mode ({@code application/cloudevents-batch+json}) is refused. Every rule broken is a
 * 400 {@code bad_event} naming the attribute and where it was looked for. Data whose content
 * type is JSON must be JSON, and is kept compact, so both modes deliver the same event the same
 * way.
 */
public final class CloudEventsHttp {

    static final String STRUCTURED = "application/cloudevents+json";
    static final String BATCH = "application/cloudevents-batch+json";

    private CloudEventsHttp() {
    }

    static ApiError bad(String message) {
        return new ApiError(400, "bad_event", message);
    }

    /** The event in a request with these headers and body. */
    public static CloudEvent parse(MultiMap headers, byte[] body) {
        String contentType = headers.get("Content-Type");
        String media = contentType == null ? "" : contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (media.equals(BATCH)) {
            throw bad("batched mode (" + BATCH + ") is not supported: publish one event per request");
        }
        if (media.startsWith("application/cloudevents")) {
            if (!media.equals(STRUCTURED)) {
                throw new ApiError(415, "unsupported_event_format", "the event format " + media + " is not"
                        + " supported: send " + STRUCTURED + " (structured mode) or the ce-* headers (binary mode)");
            }
            return structured(body);
        }
        return binary(headers, contentType, body);
    }

    // ---- structured ----------------------------------------------------------------------

    static CloudEvent structured(byte[] body) {
        JsonNode tree;
        try {
            tree = Filter.MAPPER.readTree(body);
        } catch (IOException e) {
            throw bad("the body is not JSON; structured mode takes the event as a JSON object");
        }
        if (tree == null || !tree.isObject()) {
            throw bad("structured mode takes the event as a JSON object");
        }
        String where = " in the JSON event";
        checkSpecVersion(text(tree, "specversion", where, true), where);
        String id = required(tree, "id", where);
        String source = required(tree, "source", where);
        String type = required(tree, "type", where);
        String subject = text(tree, "subject", where, false);
        if (subject != null && subject.isEmpty()) {
            throw bad("\"subject\" must not be empty" + where);
        }
        String time = time(text(tree, "time", where, false), where);
        String contentType = text(tree, "datacontenttype", where, false);
        String schema = text(tree, "dataschema", where, false);
        JsonNode data = tree.get("data");
        JsonNode data64 = tree.get("data_base64");
        if (data != null && data64 != null && !data.isNull() && !data64.isNull()) {
            throw bad("an event has \"data\" or \"data_base64\", not both");
        }
        Map<String, String> extensions = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = tree.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            if (CloudEvent.CONTEXT_ATTRIBUTES.contains(name) || name.equals("data") || name.equals("data_base64")
                    || f.getValue().isNull()) {
                continue;
            }
            checkExtensionName(name, "\"" + name + "\"");
            JsonNode v = f.getValue();
            if (!v.isValueNode()) {
                throw bad("the extension \"" + name + "\" must be a string, number or boolean" + where);
            }
            extensions.put(name, v.asText());
        }
        byte[] bytes = null;
        boolean json = false;
        if (data != null && !data.isNull()) {
            if (data.isTextual() && contentType != null && !CloudEvent.isJson(contentType)) {
                bytes = data.asText().getBytes(StandardCharsets.UTF_8);
            } else {
                try {
                    bytes = Filter.MAPPER.writeValueAsBytes(data);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                json = true;
            }
        } else if (data64 != null && !data64.isNull()) {
            if (!data64.isTextual()) {
                throw bad("\"data_base64\" must be a string" + where);
            }
            try {
                bytes = Base64.getDecoder().decode(data64.asText());
            } catch (IllegalArgumentException e) {
                throw bad("\"data_base64\" is not valid base64");
            }
            if (CloudEvent.isJson(contentType)) {
                bytes = compactJson(bytes, "the data_base64 of an event whose datacontenttype is " + contentType);
                json = true;
            }
        }
        return new CloudEvent(id, source, type, subject, time, contentType, schema, extensions, bytes, json);
    }

    private static String text(JsonNode tree, String name, String where, boolean required) {
        JsonNode v = tree.get(name);
        if (v == null || v.isNull()) {
            if (required) {
                throw bad("the event lacks the required attribute \"" + name + "\"" + where);
            }
            return null;
        }
        if (!v.isTextual()) {
            throw bad("\"" + name + "\" must be a string" + where);
        }
        return v.asText();
    }

    private static String required(JsonNode tree, String name, String where) {
        String v = text(tree, name, where, true);
        if (v.isEmpty()) {
            throw bad("\"" + name + "\" must not be empty" + where);
        }
        return v;
    }

    // ---- binary --------------------------------------------------------------------------

    static CloudEvent binary(MultiMap headers, String contentType, byte[] body) {
        Map<String, String> attributes = new TreeMap<>();
        for (Map.Entry<String, String> h : headers) {
            String header = h.getKey().toLowerCase(Locale.ROOT);
            if (!header.startsWith("ce-")) {
                continue;
            }
            String name = header.substring(3);
            String shown = "the " + header + " header";
            if (name.equals("datacontenttype")) {
                throw bad("binary mode carries datacontenttype as Content-Type, not as " + shown);
            }
            checkExtensionName(name, shown);
            if (attributes.put(name, percentDecode(h.getValue(), shown)) != null) {
                throw bad(shown + " appears more than once");
            }
        }
        if (!attributes.containsKey("specversion")) {
            throw bad("not a CloudEvent: send Content-Type: " + STRUCTURED + " with the event as JSON (structured"
                    + " mode), or the ce-specversion, ce-id, ce-source and ce-type headers with the data as the body"
                    + " (binary mode)");
        }
        checkSpecVersion(attributes.remove("specversion"), " in the ce-specversion header");
        String id = requiredHeader(attributes, "id");
        String source = requiredHeader(attributes, "source");
        String type = requiredHeader(attributes, "type");
        String subject = attributes.remove("subject");
        if (subject != null && subject.isEmpty()) {
            throw bad("the ce-subject header must not be empty");
        }
        String time = time(attributes.remove("time"), " in the ce-time header");
        String schema = attributes.remove("dataschema");
        byte[] data = body.length == 0 ? null : body;
        boolean json = false;
        if (data != null && CloudEvent.isJson(contentType)) {
            data = compactJson(data, "the body, whose Content-Type is " + contentType + ",");
            json = true;
        }
        return new CloudEvent(id, source, type, subject, time, contentType, schema, attributes, data, json);
    }

    private static String requiredHeader(Map<String, String> attributes, String name) {
        String v = attributes.remove(name);
        if (v == null) {
            throw bad("the event lacks the required attribute \"" + name + "\" (binary mode: the ce-" + name
                    + " header)");
        }
        if (v.isEmpty()) {
            throw bad("the ce-" + name + " header must not be empty");
        }
        return v;
    }

    /** Binding 1.0.2, 3.1.3.2: header values are percent-encoded UTF-8 ({@code +} is a plus, not a space). */
    static String percentDecode(String value, String where) {
        if (value.indexOf('%') < 0) {
            return value;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c != '%') {
                out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
                continue;
            }
            int hi = i + 2 < value.length() ? Character.digit(value.charAt(i + 1), 16) : -1;
            int lo = i + 2 < value.length() ? Character.digit(value.charAt(i + 2), 16) : -1;
            if (hi < 0 || lo < 0) {
                throw bad(where + " has a '%' that is not followed by two hex digits");
            }
            out.write(hi * 16 + lo);
            i += 2;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    // ---- both ----------------------------------------------------------------------------

    private static void checkSpecVersion(String v, String where) {
        if (!CloudEvent.SPEC_VERSION.equals(v)) {
            throw bad("specversion must be \"1.0\"" + where + ", got \"" + v + "\"");
        }
    }

    private static void checkExtensionName(String name, String shown) {
        if (!CloudEvent.validName(name)) {
            throw bad(shown + " does not name a CloudEvents attribute: names are lower-case letters a-z and"
                    + " digits");
        }
    }

    /** RFC 3339, as the spec requires of {@code time}; kept as sent. */
    private static String time(String v, String where) {
        if (v == null) {
            return null;
        }
        try {
            OffsetDateTime.parse(v, DateTimeFormatter.ISO_OFFSET_DATE_TIME);
            return v;
        } catch (DateTimeParseException e) {
            throw bad("\"time\" must be an RFC 3339 timestamp like 2026-11-30T12:00:00Z" + where + ", got \"" + v
                    + "\"");
        }
    }

    private static byte[] compactJson(byte[] data, String what) {
        try {
            JsonNode t = Filter.MAPPER.readTree(data);
            if (t == null) {
                throw bad(what + " is empty, which is not JSON");
            }
            return Filter.MAPPER.writeValueAsBytes(t);
        } catch (IOException e) {
            throw bad(what + " is not valid JSON");
        }
    }
}
