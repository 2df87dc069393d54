package io.kiln.gateway;

import io.kiln.gateway.testing.TestServer;
import io.restassured.response.Response;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;

import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The management token: where it is kept, which routes need it, and that a refusal tells nothing. */
class GatewayAuthTest {

    private static final TestServer SERVER = TestServer.vm();

    @BeforeAll
    static void deploy() {
        SERVER.ensure("http", "com.example.Http", "public=true");
        SERVER.ensure("greeter", "com.example.Greeter", "");
    }

    @Test
    void theTokenFileIsPrivateAndHoldsTheToken() throws Exception {
        var file = SERVER.dataDir().resolve("token");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        String token = Files.readString(file).strip();
        assertEquals(SERVER.token(), token);
        assertTrue(token.matches("[A-Za-z0-9_-]{43}"), "32 bytes, URL-safe base64 without padding");
    }

    @Test
    void managementRoutesNeedTheTokenAndMissingAndWrongLookTheSame() {
        Response missing = SERVER.anonymous().get("/v1/functions");
        Response wrong = SERVER.anonymous().header("Authorization", "Bearer " + SERVER.token() + "x")
                .get("/v1/functions");
        Response notBearer = SERVER.anonymous().header("Authorization", "Basic " + SERVER.token()).get("/v1/functions");
        for (Response r : new Response[] {missing, wrong, notBearer}) {
            assertEquals(401, r.statusCode());
            assertEquals("Bearer realm=\"kiln\"", r.header("WWW-Authenticate"));
            assertEquals("unauthorized", r.jsonPath().getString("error.code"));
        }
        assertEquals(missing.asString(), wrong.asString(), "a wrong token is not told apart from none");
        for (String path : new String[] {"/v1/functions/greeter", "/v1/functions/greeter/logs", "/v1/calls/0123456789abcdef"}) {
            SERVER.anonymous().get(path).then().statusCode(401);
        }
        SERVER.anonymous().delete("/v1/functions/greeter").then().statusCode(401);
        SERVER.given().get("/v1/functions").then().statusCode(200);
        // Lower-case scheme is fine.
        SERVER.anonymous().header("Authorization", "bearer " + SERVER.token()).get("/v1/functions").then().statusCode(200);
    }

    @Test
    void privateFunctionsNeedTheTokenPublicOnesDoNot() {
        SERVER.anonymous().body("{\"name\":\"A\",\"age\":1}").post("/function/greeter").then().statusCode(401)
                .body("error.code", equalTo("unauthorized"));
        SERVER.anonymous().header("Authorization", "Bearer nope").body("{}").post("/function/greeter").then()
                .statusCode(401);
        SERVER.anonymous().body("{}").post("/async-function/greeter").then().statusCode(401);
        // A missing function looks like a private one to a caller without the token.
        SERVER.anonymous().post("/function/nobody-here").then().statusCode(401);
        SERVER.given().post("/function/nobody-here").then().statusCode(404);
        // Public: no token needed, and a token is no harm.
        SERVER.anonymous().get("/function/http").then().statusCode(201);
        SERVER.given().get("/function/http").then().statusCode(201);
        // Health, metrics and the API document are open.
        SERVER.anonymous().get("/healthz").then().statusCode(200);
        SERVER.anonymous().get("/metrics").then().statusCode(200);
        SERVER.anonymous().get("/openapi.json").then().statusCode(200);
    }
}
