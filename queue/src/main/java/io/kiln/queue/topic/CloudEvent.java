package io.kiln.queue.topic;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A CloudEvents 1.0 event as Kiln keeps it, whichever HTTP mode it arrived in. The parsers
 * (the gateway's) check the spec's rules and say which one a request broke; this record holds
 * only the invariants every event has.
 *
 * @param subject         null when absent
 * @param time            RFC 3339, as sent; null when absent
 * @param dataContentType null when absent
 * @param dataSchema      null when absent
 * @param extensions      every other attribute, by name (lower-case letters and digits), as text
 * @param data            null for an event without data; JSON data is kept compact
 * @param jsonData        true when {@code data} is a JSON value (structured mode's {@code data},
 *                        or a body whose Content-Type is JSON), so deliveries inline it
 */
public record CloudEvent(String id, String source, String type, String subject, String time,
                         String dataContentType, String dataSchema, Map<String, String> extensions, byte[] data,
                         boolean jsonData) {

    public static final String SPEC_VERSION = "1.0";
    /** The attributes the spec defines; any other is an extension. */
    public static final Set<String> CONTEXT_ATTRIBUTES = Set.of("specversion", "id", "source", "type", "subject",
            "time", "datacontenttype", "dataschema");
    /** CloudEvents 1.0: attribute names consist of lower-case ASCII letters and digits. */
    private static final Pattern NAME = Pattern.compile("[a-z0-9]+");

    public CloudEvent {
        if (empty(id) || empty(source) || empty(type)) {
            throw new IllegalArgumentException("an event has a non-empty id, source and type");
        }
        Map<String, String> ext = new TreeMap<>();
        if (extensions != null) {
            extensions.forEach((k, v) -> {
                if (!validName(k) || CONTEXT_ATTRIBUTES.contains(k) || k.equals("data") || k.equals("data_base64")) {
                    throw new IllegalArgumentException("not an extension attribute name: \"" + k + "\"");
                }
                ext.put(k, v);
            });
        }
        extensions = Collections.unmodifiableMap(ext);
    }

    private static boolean empty(String s) {
        return s == null || s.isEmpty();
    }

    /** Lower-case ASCII letters and digits, as CloudEvents 1.0 requires of attribute names. */
    public static boolean validName(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    /** A JSON media type: {@code application/json}, {@code text/json} or any {@code +json} suffix, parameters aside. */
    public static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        String t = contentType.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
        return t.equals("application/json") || t.equals("text/json") || t.endsWith("+json");
    }

    /** The value of a context attribute or extension, as text; null when the event does not have it. */
    public String attribute(String name) {
        return switch (name) {
            case "specversion" -> SPEC_VERSION;
            case "id" -> id;
            case "source" -> source;
            case "type" -> type;
            case "subject" -> subject;
            case "time" -> time;
            case "datacontenttype" -> dataContentType;
            case "dataschema" -> dataSchema;
            default -> extensions.get(name);
        };
    }

    /** Every attribute the event has but its data, in the spec's order, then extensions by name. */
    public Map<String, String> attributes() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String n : new String[]{"specversion", "id", "source", "type", "subject", "time", "datacontenttype",
                "dataschema"}) {
            String v = attribute(n);
            if (v != null) {
                out.put(n, v);
            }
        }
        out.putAll(extensions);
        return out;
    }
}
