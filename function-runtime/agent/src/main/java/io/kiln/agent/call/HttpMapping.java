package io.kiln.agent.call;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.agent.Json;
import io.kiln.function.Headers;
import io.kiln.function.HttpRequest;
import io.kiln.function.HttpResponse;

import java.util.Map;

/**
 * HTTP over frames. INVOKE metadata {@code "http": {"method", "path", "query", "headers":
 * [[name, value], ...]}} plus the raw body becomes an {@link HttpRequest}; an
 * {@link HttpResponse} becomes RESULT metadata {@code "http": {"status", "headers"}} plus the
 * raw body. Headers are pairs, not an object, to keep order, repeats and spelling.
 */
public final class HttpMapping {

    private HttpMapping() {
    }

    /**
     * The request in an INVOKE. Without {@code "http"} (the function was invoked directly, not
     * through an HTTP trigger) the body arrives as {@code POST /} without headers.
     */
    public static HttpRequest request(ObjectNode meta, byte[] body) throws BadInputException {
        JsonNode http = meta.get("http");
        HttpRequest.Builder b = HttpRequest.builder().body(body);
        if (http == null || http.isNull()) {
            return b.method("POST").build();
        }
        if (!http.isObject()) {
            throw new BadInputException("INVOKE \"http\" must be an object", null);
        }
        try {
            b.method(text(http, "method", "GET"));
            b.path(text(http, "path", "/"));
            b.query(text(http, "query", ""));
            JsonNode headers = http.get("headers");
            if (headers != null && !headers.isNull()) {
                if (!headers.isArray()) {
                    throw new BadInputException("\"http.headers\" must be [[name, value], ...]",
                            null);
                }
                for (JsonNode pair : headers) {
                    if (!pair.isArray() || pair.size() != 2 || !pair.get(0).isTextual()
                            || !pair.get(1).isTextual()) {
                        throw new BadInputException("each header must be [name, value]", null);
                    }
                    b.header(pair.get(0).asText(), pair.get(1).asText());
                }
            }
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new BadInputException("bad HTTP request: " + e.getMessage(), e);
        }
    }

    /** RESULT metadata {@code "http"} for a response. */
    public static ObjectNode response(int status, Headers headers) {
        ObjectNode http = Json.object().put("status", status);
        ArrayNode list = http.putArray("headers");
        for (Map.Entry<String, String> e : headers.entries()) {
            list.addArray().add(e.getKey()).add(e.getValue());
        }
        return http;
    }

    private static String text(JsonNode http, String key, String fallback)
            throws BadInputException {
        JsonNode n = http.get(key);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isTextual()) {
            throw new BadInputException("\"http." + key + "\" must be a string", null);
        }
        return n.asText();
    }
}
