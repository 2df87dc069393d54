package io.kiln.agent.lambda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.agent.Json;
import io.kiln.function.HttpRequest;
import io.kiln.function.HttpResponse;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The HTTP ⇄ event mapping on its own, without an agent or the AWS classes. */
class HttpEventsTest {

    private static final HttpEvents.CallInfo CALL = new HttpEvents.CallInfo("00000000000000ff",
            "orders", Instant.parse("2026-11-29T23:12:41.5Z"));

    private static JsonNode json(String s) throws IOException {
        return Json.MAPPER.readTree(s);
    }

    @Test
    void headersAndMultiValueHeadersMergeAsApiGatewayDoes() throws IOException {
        HttpResponse r = HttpEvents.response(HttpEvents.Kind.API_GATEWAY_V1, json(
                "{\"statusCode\":202,\"headers\":{\"A\":\"1\",\"B\":\"2\"},"
                        + "\"multiValueHeaders\":{\"a\":[\"1\",\"3\"]},\"body\":\"ok\"}"));
        assertEquals(202, r.status());
        assertEquals("[B=2, a=1, a=3]", r.headers().entries().toString());
        assertEquals("ok", r.bodyAsString());
    }

    @Test
    void base64BodiesCookiesAndAMissingStatus() throws IOException {
        HttpResponse r = HttpEvents.response(HttpEvents.Kind.API_GATEWAY_V2, json(
                "{\"cookies\":[\"a=1\",\"b=2; Path=/\"],\"body\":\"/wCA\",\"isBase64Encoded\":true}"));
        assertEquals(200, r.status());
        assertEquals("[Set-Cookie=a=1, Set-Cookie=b=2; Path=/]", r.headers().entries().toString());
        assertArrayEquals(new byte[]{(byte) 0xff, 0, (byte) 0x80}, r.body());
        // Only the HTTP API has cookies in its response.
        assertEquals(0, HttpEvents.response(HttpEvents.Kind.API_GATEWAY_V1,
                json("{\"cookies\":[\"a=1\"]}")).headers().size());
    }

    @Test
    void responsesThatCannotBeHttpAreRefused() throws IOException {
        assertThrows(IllegalArgumentException.class,
                () -> HttpEvents.response(HttpEvents.Kind.ALB, json("null")));
        assertThrows(IllegalArgumentException.class,
                () -> HttpEvents.response(HttpEvents.Kind.ALB, json("{\"statusCode\":0}")));
        assertThrows(IllegalArgumentException.class, () -> HttpEvents.response(
                HttpEvents.Kind.API_GATEWAY_V1, json("{\"statusCode\":200,"
                        + "\"headers\":{\"X-A\":\"1\\r\\nX-B: 2\"}}")));
    }

    @Test
    void aBareGetHasNullMapsAndNoBody() {
        ObjectNode e = HttpEvents.request(HttpEvents.Kind.API_GATEWAY_V1,
                HttpRequest.of("GET", "/"), CALL);
        assertEquals("{\"resource\":\"/{proxy+}\",\"path\":\"/\",\"httpMethod\":\"GET\","
                + "\"headers\":null,\"multiValueHeaders\":null,\"queryStringParameters\":null,"
                + "\"multiValueQueryStringParameters\":null,\"pathParameters\":null,"
                + "\"stageVariables\":null,\"requestContext\":{\"resourcePath\":\"/{proxy+}\","
                + "\"httpMethod\":\"GET\",\"path\":\"/\",\"stage\":\"$default\","
                + "\"requestId\":\"00000000000000ff\",\"requestTime\":\"29/Nov/2026:23:12:41 +0000\","
                + "\"requestTimeEpoch\":1795993961500,\"protocol\":\"HTTP/1.1\","
                + "\"identity\":{\"userAgent\":null}},\"body\":null,\"isBase64Encoded\":false}",
                e.toString());
        ObjectNode v2 = HttpEvents.request(HttpEvents.Kind.API_GATEWAY_V2,
                HttpRequest.builder().method("PUT").path("/x").body(new byte[]{(byte) 0xc3})
                        .build(), CALL);
        assertEquals("ww==", v2.get("body").asText());
        assertEquals(true, v2.get("isBase64Encoded").asBoolean());
        assertEquals(false, v2.has("headers"));
        assertEquals("", v2.get("rawQueryString").asText());
    }
}
