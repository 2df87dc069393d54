package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.net.http.HttpHeaders;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A function's answer, from a sync call or an async call's record.
 *
 * @param status  the HTTP status
 * @param headers name and value, in order, repeats kept
 * @param callId  the call's id, null if the server gave none (the call never started)
 * @param body    the body bytes
 */
public record CallReply(int status, List<Map.Entry<String, String>> headers, String callId, byte[] body) {

    public static CallReply of(int status, HttpHeaders h, byte[] body) {
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        h.map().forEach((k, vs) -> vs.forEach(v -> headers.add(Map.entry(k, v))));
        return new CallReply(status, headers, h.firstValue("X-Kiln-Call-Id").orElse(null), body);
    }

    /** From {@code GET /v1/calls/{id}}'s {@code result}: {@code {"status","headers":[[k,v]],"bodyBase64"}}. */
    public static CallReply ofRecord(String callId, JsonNode result) {
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        for (JsonNode pair : result.path("headers")) {
            if (pair.isArray() && pair.size() == 2) {
                headers.add(Map.entry(pair.get(0).asText(), pair.get(1).asText()));
            }
        }
        byte[] body = Base64.getDecoder().decode(result.path("bodyBase64").asText(""));
        return new CallReply(result.path("status").asInt(200), headers, callId, body);
    }

    public String header(String name) {
        for (Map.Entry<String, String> h : headers) {
            if (h.getKey().equalsIgnoreCase(name)) {
                return h.getValue();
            }
        }
        return null;
    }

    public String contentType() {
        return header("Content-Type");
    }

    /**
     * The Kiln error object when the body is one ({@code {"error":{"code","message"}}} as JSON):
     * the platform refused or failed the call, rather than the function answering.
     */
    public JsonNode kilnError() {
        String ct = contentType();
        if (status < 400 || ct == null || !ct.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            return null;
        }
        return Json.error(Json.parse(body));
    }

    /**
     * {@code {"status","headers":{name:value},"callId","body" | "bodyBase64"}}: {@code body} when
     * the bytes are UTF-8 text, {@code bodyBase64} otherwise. Header names lower case; repeated
     * headers joined with ", ".
     */
    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("status", status);
        ObjectNode hs = o.putObject("headers");
        for (Map.Entry<String, String> h : headers) {
            String k = h.getKey().toLowerCase(Locale.ROOT);
            hs.put(k, hs.has(k) ? hs.get(k).asText() + ", " + h.getValue() : h.getValue());
        }
        if (callId == null) {
            o.putNull("callId");
        } else {
            o.put("callId", callId);
        }
        String text = Format.isText(contentType(), body) ? Format.utf8(body) : null;
        if (text != null) {
            o.put("body", text);
        } else {
            o.put("bodyBase64", Base64.getEncoder().encodeToString(body));
        }
        return o;
    }
}
