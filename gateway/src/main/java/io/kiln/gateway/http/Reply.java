package io.kiln.gateway.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.invoker.call.CallResult;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a function's RESULT becomes over HTTP. With {@code http} metadata (the function returned
 * an {@code HttpResponse}): that status, those headers (minus what belongs to the connection:
 * hop-by-hop, Content-Length, and the gateway's own X-Kiln- headers), that body. Otherwise 200
 * with the result's {@code contentType}, if any.
 *
 * @param headers     in order, repeats kept
 * @param contentType the Content-Type among {@code headers}, or null
 */
public record Reply(int status, List<Map.Entry<String, String>> headers, String contentType, byte[] body) {

    private static final System.Logger LOG = System.getLogger(Reply.class.getName());

    public static Reply of(CallResult result) {
        ObjectNode meta = result.metadata();
        JsonNode http = meta == null ? null : meta.get("http");
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        String contentType = null;
        if (http != null && http.isObject()) {
            int status = http.path("status").asInt(200);
            if (status < 200 || status > 599) {
                throw new ApiError(500, "bad_output", "the function answered with HTTP status " + status
                        + "; a response needs 200 to 599");
            }
            for (JsonNode pair : http.path("headers")) {
                if (!pair.isArray() || pair.size() != 2 || !pair.get(0).isTextual() || !pair.get(1).isTextual()) {
                    continue;
                }
                String name = pair.get(0).asText();
                String value = pair.get(1).asText();
                if (!validName(name) || !validValue(value)) {
                    LOG.log(System.Logger.Level.WARNING, "dropped an invalid response header of " + result.function());
                    continue;
                }
                if (HttpHead.hopByHop(name) || name.regionMatches(true, 0, "X-Kiln-", 0, 7)) {
                    continue;
                }
                if (name.equalsIgnoreCase("Content-Type") && contentType == null) {
                    contentType = value;
                }
                headers.add(Map.entry(name, value));
            }
            byte[] body = status == 204 || status == 304 ? new byte[0] : result.body();
            return new Reply(status, headers, contentType, body);
        }
        JsonNode ct = meta == null ? null : meta.get("contentType");
        if (ct != null && ct.isTextual() && validValue(ct.asText())) {
            contentType = ct.asText();
            headers.add(Map.entry("Content-Type", contentType));
        }
        return new Reply(200, headers, contentType, result.body());
    }

    /** An RFC 9110 token. */
    static boolean validName(String name) {
        if (name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** No CR, LF, NUL or other controls but tab. */
    static boolean validValue(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 && c != '\t' || c == 0x7f) {
                return false;
            }
        }
        return true;
    }
}
