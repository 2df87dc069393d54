package io.kiln.agent.lambda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.agent.Json;
import io.kiln.function.HttpRequest;
import io.kiln.function.HttpResponse;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * HTTP triggers in the shapes Lambda handlers expect: a request (the INVOKE {@code http}
 * metadata and body) as an API Gateway REST ({@code APIGatewayProxyRequestEvent}), API Gateway
 * HTTP API ({@code APIGatewayV2HTTPEvent}) or ALB ({@code ApplicationLoadBalancerRequestEvent})
 * event, as JSON for {@link EventSerializers}; and the matching response event, as JSON, back
 * into an {@link HttpResponse}. The table in docs/API.md is the contract.
 */
public final class HttpEvents {

    /** Which proxy integration a handler speaks, by its request or response class. */
    public enum Kind {
        API_GATEWAY_V1("APIGatewayProxyRequestEvent", "APIGatewayProxyResponseEvent"),
        API_GATEWAY_V2("APIGatewayV2HTTPEvent", "APIGatewayV2HTTPResponse"),
        ALB("ApplicationLoadBalancerRequestEvent", "ApplicationLoadBalancerResponseEvent");

        private final String request;
        private final String response;

        Kind(String request, String response) {
            this.request = EventSerializers.EVENTS_PACKAGE + request;
            this.response = EventSerializers.EVENTS_PACKAGE + response;
        }

        /** The kind whose request event is {@code type}, or null. */
        public static Kind ofRequest(Class<?> type) {
            for (Kind k : values()) {
                if (k.request.equals(type.getName())) {
                    return k;
                }
            }
            return null;
        }

        /** The kind whose response event is {@code type}, or null. */
        public static Kind ofResponse(Class<?> type) {
            for (Kind k : values()) {
                if (k.response.equals(type.getName())) {
                    return k;
                }
            }
            return null;
        }
    }

    /** What the event says about the call besides the request. */
    public record CallInfo(String requestId, String functionName, Instant time) {
    }

    static final String RESOURCE = "/{proxy+}";
    static final String STAGE = "$default";
    static final String PROTOCOL = "HTTP/1.1";
    /** API Gateway's {@code requestTime}: {@code 09/Apr/2015:12:34:56 +0000}. */
    static final DateTimeFormatter REQUEST_TIME =
            DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH)
                    .withZone(ZoneOffset.UTC);

    private HttpEvents() {
    }

    /** The request event of {@code kind} for {@code req}, as JSON. */
    public static ObjectNode request(Kind kind, HttpRequest req, CallInfo call) {
        return switch (kind) {
            case API_GATEWAY_V1 -> restApi(req, call);
            case API_GATEWAY_V2 -> httpApi(req, call);
            case ALB -> alb(req, call);
        };
    }

    private static ObjectNode restApi(HttpRequest req, CallInfo call) {
        ObjectNode e = Json.object();
        e.put("resource", RESOURCE);
        e.put("path", req.path());
        e.put("httpMethod", req.method());
        Map<String, List<String>> headers = headers(req, false);
        putSingle(e, "headers", headers);
        putMulti(e, "multiValueHeaders", headers);
        Map<String, List<String>> query = req.queryParameters();
        putSingle(e, "queryStringParameters", query);
        putMulti(e, "multiValueQueryStringParameters", query);
        if (req.path().length() > 1) {
            e.putObject("pathParameters").put("proxy", req.path().substring(1));
        } else {
            e.putNull("pathParameters");
        }
        e.putNull("stageVariables");
        ObjectNode ctx = e.putObject("requestContext");
        ctx.put("resourcePath", RESOURCE);
        ctx.put("httpMethod", req.method());
        ctx.put("path", req.path());
        ctx.put("stage", STAGE);
        ctx.put("requestId", call.requestId());
        ctx.put("requestTime", REQUEST_TIME.format(call.time()));
        ctx.put("requestTimeEpoch", call.time().toEpochMilli());
        ctx.put("protocol", PROTOCOL);
        ObjectNode identity = ctx.putObject("identity");
        identity.put("userAgent", req.header("User-Agent").orElse(null));
        body(e, req.body());
        return e;
    }

    private static ObjectNode httpApi(HttpRequest req, CallInfo call) {
        ObjectNode e = Json.object();
        e.put("version", "2.0");
        e.put("routeKey", "$default");
        e.put("rawPath", req.path());
        e.put("rawQueryString", req.query());
        Map<String, List<String>> headers = headers(req, true);
        List<String> cookies = headers.remove("cookie");
        if (cookies != null) {
            ArrayNode c = e.putArray("cookies");
            for (String header : cookies) {
                for (String cookie : header.split(";")) {
                    if (!cookie.isBlank()) {
                        c.add(cookie.trim());
                    }
                }
            }
        }
        putJoined(e, "headers", headers);
        putJoined(e, "queryStringParameters", req.queryParameters());
        ObjectNode ctx = e.putObject("requestContext");
        ctx.put("routeKey", "$default");
        ctx.put("stage", STAGE);
        ctx.put("requestId", call.requestId());
        ctx.put("domainName", req.header("Host").orElse(null));
        ctx.put("time", REQUEST_TIME.format(call.time()));
        ctx.put("timeEpoch", call.time().toEpochMilli());
        ObjectNode http = ctx.putObject("http");
        http.put("method", req.method());
        http.put("path", req.path());
        http.put("protocol", PROTOCOL);
        http.put("userAgent", req.header("User-Agent").orElse(null));
        body(e, req.body());
        return e;
    }

    private static ObjectNode alb(HttpRequest req, CallInfo call) {
        ObjectNode e = Json.object();
        e.putObject("requestContext").putObject("elb")
                .put("targetGroupArn", "kiln:function:" + call.functionName());
        e.put("httpMethod", req.method());
        e.put("path", req.path());
        // An ALB passes query parameters as sent, still percent-encoded.
        Map<String, List<String>> query = rawQuery(req.query());
        putSingle(e, "queryStringParameters", query);
        putMulti(e, "multiValueQueryStringParameters", query);
        Map<String, List<String>> headers = headers(req, true);
        putSingle(e, "headers", headers);
        putMulti(e, "multiValueHeaders", headers);
        body(e, req.body());
        return e;
    }

    /**
     * The response event ({@code json}, as AWS's serializer wrote it) as an HTTP response:
     * status, {@code headers} and {@code multiValueHeaders} merged as API Gateway does (a
     * value in both appears once), v2 {@code cookies} as {@code Set-Cookie}, the body decoded
     * from base64 when {@code isBase64Encoded}.
     *
     * @throws IllegalArgumentException if the event cannot be an HTTP response
     */
    public static HttpResponse response(Kind kind, JsonNode json) {
        if (json == null || !json.isObject()) {
            throw new IllegalArgumentException("the handler returned no response event");
        }
        JsonNode code = json.get("statusCode");
        int status = code == null || code.isNull() ? 200 : code.asInt(-1);
        HttpResponse.Builder b = HttpResponse.builder(status);
        Map<String, List<String>> multi = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        JsonNode mv = json.get("multiValueHeaders");
        if (mv != null && mv.isObject()) {
            for (Map.Entry<String, JsonNode> h : mv.properties()) {
                List<String> values = new ArrayList<>();
                for (JsonNode v : h.getValue()) {
                    values.add(v.asText());
                }
                multi.computeIfAbsent(h.getKey(), k -> new ArrayList<>()).addAll(values);
            }
        }
        JsonNode single = json.get("headers");
        if (single != null && single.isObject()) {
            for (Map.Entry<String, JsonNode> h : single.properties()) {
                List<String> also = multi.get(h.getKey());
                if (also == null || !also.contains(h.getValue().asText())) {
                    b.header(h.getKey(), h.getValue().asText());
                }
            }
        }
        if (mv != null && mv.isObject()) {
            for (Map.Entry<String, JsonNode> h : mv.properties()) {
                for (JsonNode v : h.getValue()) {
                    b.header(h.getKey(), v.asText());
                }
            }
        }
        JsonNode cookies = json.get("cookies");
        if (kind == Kind.API_GATEWAY_V2 && cookies != null && cookies.isArray()) {
            for (JsonNode c : cookies) {
                b.header("Set-Cookie", c.asText());
            }
        }
        JsonNode body = json.get("body");
        if (body != null && !body.isNull()) {
            JsonNode base64 = json.get("isBase64Encoded");
            if (base64 != null && base64.asBoolean()) {
                b.body(Base64.getMimeDecoder().decode(body.asText()));
            } else {
                b.body(body.asText());
            }
        }
        return b.build();
    }

    /** Headers by name, in order; names lower-cased or kept as first spelled. */
    private static Map<String, List<String>> headers(HttpRequest req, boolean lowerCase) {
        Map<String, String> spelling = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> h : req.headers().entries()) {
            String name = lowerCase ? h.getKey().toLowerCase(Locale.ROOT)
                    : spelling.computeIfAbsent(h.getKey(), k -> k);
            out.computeIfAbsent(name, k -> new ArrayList<>()).add(h.getValue());
        }
        return out;
    }

    private static Map<String, List<String>> rawQuery(String query) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String pair : query.split("&")) {
            if (!pair.isEmpty()) {
                int eq = pair.indexOf('=');
                out.computeIfAbsent(eq < 0 ? pair : pair.substring(0, eq), k -> new ArrayList<>())
                        .add(eq < 0 ? "" : pair.substring(eq + 1));
            }
        }
        return out;
    }

    /** The last value of each name, as API Gateway's single-value maps; null when none. */
    private static void putSingle(ObjectNode e, String field, Map<String, List<String>> values) {
        if (values.isEmpty()) {
            e.putNull(field);
            return;
        }
        ObjectNode o = e.putObject(field);
        values.forEach((k, v) -> o.put(k, v.get(v.size() - 1)));
    }

    private static void putMulti(ObjectNode e, String field, Map<String, List<String>> values) {
        if (values.isEmpty()) {
            e.putNull(field);
            return;
        }
        ObjectNode o = e.putObject(field);
        values.forEach((k, v) -> v.forEach(o.putArray(k)::add));
    }

    /** Repeated values joined with commas, as the HTTP API's payload 2.0 does. */
    private static void putJoined(ObjectNode e, String field, Map<String, List<String>> values) {
        if (values.isEmpty()) {
            return;
        }
        ObjectNode o = e.putObject(field);
        values.forEach((k, v) -> o.put(k, String.join(",", v)));
    }

    /** The body as text if it is UTF-8, else base64 with {@code isBase64Encoded}. */
    private static void body(ObjectNode e, byte[] body) {
        if (body.length == 0) {
            e.putNull("body");
            e.put("isBase64Encoded", false);
            return;
        }
        try {
            String text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body)).toString();
            e.put("body", text);
            e.put("isBase64Encoded", false);
        } catch (CharacterCodingException notText) {
            e.put("body", Base64.getEncoder().encodeToString(body));
            e.put("isBase64Encoded", true);
        }
    }
}
