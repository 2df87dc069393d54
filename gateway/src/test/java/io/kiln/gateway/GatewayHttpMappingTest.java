package io.kiln.gateway;

import io.kiln.gateway.testing.TestServer;
import io.restassured.http.Header;
import io.restassured.http.Headers;
import io.restassured.response.Response;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How HTTP requests reach functions and their answers come back, on the real engine. */
class GatewayHttpMappingTest {

    private static final TestServer SERVER = TestServer.vm();

    @BeforeAll
    static void deploy() {
        SERVER.ensure("http", "com.example.Http", "public=true");
        SERVER.ensure("bytes", "com.example.Bytes", "");
        SERVER.ensure("greeter", "com.example.Greeter", "");
        SERVER.ensure("fails", "com.example.Fails", "");
    }

    @Test
    void anHttpResponseKeepsStatusRepeatedHeadersAndBodyAndSeesPathQueryAndHeaders() {
        Response r = SERVER.anonymous().urlEncodingEnabled(false).contentType("text/plain")
                .headers(new Headers(new Header("X-Multi", "one"), new Header("X-Multi", "two")))
                .body("make it loud").post("/function/http/orders/a%20b?q=x%26y&z=1");
        assertEquals(201, r.statusCode(), r::asString);
        assertEquals("/orders/a%20b/7", r.header("Location"), "the path below the route, still encoded");
        assertEquals("x&y", r.header("X-Query"));
        assertEquals("one|two", r.header("X-Multi"), "both, in order");
        assertEquals(List.of("a=1", "b=2"), r.headers().getValues("Set-Cookie"));
        assertEquals("POST /orders/a%20b text/plain MAKE IT LOUD", r.asString());
        assertTrue(List.of("cold", "warm").contains(r.header("X-Kiln-Start")), r.header("X-Kiln-Start"));
        assertTrue(r.header("X-Kiln-Call-Id").matches("[0-9a-f]{16}"));
        assertTrue(r.header("Server-Timing").matches("queue;dur=[0-9.]+, start;dur=[0-9.]+, invoke;dur=[0-9.]+, "
                + "gateway;dur=[0-9.]+, total;dur=[0-9.]+"), r.header("Server-Timing"));

        // The route itself is "/", and other methods arrive as sent.
        SERVER.anonymous().get("/function/http").then().statusCode(201).body(equalTo("GET / - "))
                .header("Location", "//7");
        SERVER.anonymous().delete("/function/http/x/").then().statusCode(201).body(equalTo("DELETE /x/ - "));
        SERVER.anonymous().body("p").patch("/function/http/y").then().statusCode(201)
                .body(matchesPattern("PATCH /y .* P"));
    }

    @Test
    void binaryBodiesPassUnchangedBothWays() {
        byte[] all = new byte[256 * 4];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }
        Response r = SERVER.given().contentType("application/octet-stream").body(all).post("/function/bytes");
        assertEquals(200, r.statusCode(), r::asString);
        assertEquals("application/octet-stream", r.contentType());
        byte[] out = r.asByteArray();
        byte[] expected = new byte[all.length];
        for (int i = 0; i < all.length; i++) {
            expected[i] = (byte) ~all[i];
        }
        assertArrayEquals(expected, out, "every byte value, inverted by the function");
        // An empty body is an empty byte[].
        SERVER.given().post("/function/bytes").then().statusCode(200).body(equalTo(""));
    }

    @Test
    void aJsonBoundRecordInAndOutAndBadJsonIsBadInput() {
        SERVER.given().contentType("application/json").body("{\"name\":\"Bo\",\"age\":12,\"extra\":true}")
                .post("/function/greeter").then().statusCode(200).contentType("application/json")
                .body("message", equalTo("Hello, Bo")).body("adult", equalTo(false));
        Response bad = SERVER.given().contentType("application/json").body("{\"name\":").post("/function/greeter");
        assertEquals(400, bad.statusCode(), bad::asString);
        assertEquals("bad_input", bad.jsonPath().getString("error.code"));
        assertEquals(bad.header("X-Kiln-Call-Id"), bad.jsonPath().getString("error.callId"));
        assertNoStack(bad.asString());
    }

    @Test
    void aFunctionsExceptionIsA500WithItsTypeAndMessageButNeverItsStack() {
        Response r = SERVER.given().body("boom").post("/function/fails");
        assertEquals(500, r.statusCode(), r::asString);
        assertEquals("application/json", r.contentType());
        assertEquals("function_error", r.jsonPath().getString("error.code"));
        assertEquals("java.lang.IllegalStateException", r.jsonPath().getString("error.type"));
        assertTrue(r.jsonPath().getString("error.message").contains("boom"), r::asString);
        assertEquals(r.header("X-Kiln-Call-Id"), r.jsonPath().getString("error.callId"));
        assertNoStack(r.asString());
        // A String result is text.
        SERVER.given().body("fine").post("/function/fails").then().statusCode(200)
                .contentType("text/plain; charset=utf-8").body(equalTo("ok:fine"));
    }

    @Test
    void unknownRoutesAndMethodsAreJsonErrors() {
        SERVER.anonymous().get("/nothing/here").then().statusCode(404).contentType("application/json")
                .body("error.code", equalTo("not_found"));
        SERVER.given().patch("/v1/functions").then().statusCode(405).contentType("application/json")
                .body("error.code", equalTo("method_not_allowed"));
        SERVER.given().get("/async-function/http").then().statusCode(405);
        SERVER.given().get("/v1/calls/not-an-id").then().statusCode(400).body("error.code", equalTo("bad_request"))
                .body(not(containsString("Exception")));
    }

    static void assertNoStack(String body) {
        assertFalse(body.contains("\tat ") || body.contains(".java:") || body.contains("\"stack\""), body);
    }
}
