package io.kiln.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.kiln.agent.testing.Fixtures;
import io.kiln.gateway.testing.TestServer;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.matchesPattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Deploy → call → logs → delete on the real engine, and what deploys refuse. */
class GatewayLifecycleTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final TestServer server = TestServer.vm();

    @Test
    void deployWithProgressCallReadLogsDeleteAndGone() throws IOException {
        // Deploy, streaming progress as NDJSON.
        Response deploy = server.given().contentType("application/java-archive").accept("application/x-ndjson")
                .body(Fixtures.functions())
                .put("/v1/functions/life?handler=com.example.Greeter&memory=256&timeout=20s&env=GREETING=hi=there");
        assertEquals(200, deploy.statusCode(), deploy::asString);
        assertEquals("application/x-ndjson", deploy.contentType());
        List<JsonNode> lines = new ArrayList<>();
        for (String line : deploy.asString().split("\n")) {
            lines.add(JSON.readTree(line));
        }
        assertEquals("receiving the jar", lines.get(0).get("progress").asText());
        assertTrue(lines.size() >= 3, lines::toString);
        for (JsonNode l : lines.subList(0, lines.size() - 1)) {
            assertTrue(l.has("progress"), l::toString);
        }
        JsonNode fn = lines.get(lines.size() - 1).get("function");
        assertEquals("life", fn.get("name").asText());
        assertEquals(1, fn.get("version").asInt());
        assertEquals("com.example.Greeter", fn.get("handler").asText());
        assertEquals(20000, fn.get("config").get("timeoutMs").asInt());
        assertEquals("***", fn.get("config").get("env").get("GREETING").asText(), "values are masked");
        server.given().get("/v1/functions/life?reveal=env").then().statusCode(200)
                .body("config.env.GREETING", org.hamcrest.Matchers.equalTo("hi=there"));
        assertFalse(fn.get("config").get("public").asBoolean());
        assertEquals(Fixtures.functions().length, fn.get("jar").get("size").asInt());
        assertEquals("/function/life", fn.get("url").asText());

        // Call it: a JSON-bound record in, a record out.
        Response call = server.given().contentType("application/json").body("{\"name\":\"Ada\",\"age\":36}")
                .post("/function/life");
        assertEquals(200, call.statusCode(), call::asString);
        assertEquals("application/json", call.contentType());
        assertEquals("{\"message\":\"Hello, Ada\",\"adult\":true}", call.asString());
        String callId = call.header("X-Kiln-Call-Id");
        assertTrue(callId.matches("[0-9a-f]{16}"), callId);

        // Its printed and logged lines carry the call id.
        Response logs = server.given().get("/v1/functions/life/logs?limit=50");
        assertEquals(200, logs.statusCode(), logs::asString);
        List<JsonNode> ofCall = new ArrayList<>();
        for (JsonNode l : JSON.readTree(logs.asString()).get("lines")) {
            if (callId.equals(l.get("callId").asText(null))) {
                ofCall.add(l);
            }
        }
        assertTrue(ofCall.stream().anyMatch(l -> l.get("stream").asText().equals("stdout")
                && l.get("text").asText().equals("greeting Ada")), ofCall::toString);
        assertTrue(ofCall.stream().anyMatch(l -> l.get("stream").asText().equals("log")), ofCall::toString);
        JsonNode first = ofCall.get(0);
        assertEquals(1, first.get("version").asInt());
        assertTrue(first.get("time").asText().matches("\\d{4}-\\d\\d-\\d\\dT.*Z"), first::toString);
        assertTrue(first.get("seq").asLong() > 0);

        // Describe and list show it.
        server.given().get("/v1/functions/life").then().statusCode(200)
                .body("versions.version", hasItem(1)).body("state.inFlight", equalTo(0))
                .body("jar.sha256", matchesPattern("[0-9a-f]{64}"));
        server.given().get("/v1/functions").then().statusCode(200).body("functions.name", hasItem("life"));

        // Delete: 204, then it is gone everywhere.
        server.given().delete("/v1/functions/life").then().statusCode(204);
        server.given().delete("/v1/functions/life").then().statusCode(404).body("error.code", equalTo("not_found"));
        server.given().get("/v1/functions/life").then().statusCode(404).body("error.code", equalTo("not_found"));
        server.given().get("/v1/functions/life/logs").then().statusCode(404);
        server.given().body("{}").post("/function/life").then().statusCode(404).body("error.code", equalTo("not_found"));
    }

    @Test
    void aSecondDeployIsANewVersionAndTheSameNameStaysCallable() {
        server.ensure("upper", "com.example.Upper", "");
        Response again = server.deploy("upper", "com.example.Upper", "public=true");
        assertEquals(200, again.statusCode(), again::asString);
        JsonNode fn = readTree(again.asString());
        assertTrue(fn.get("version").asInt() >= 2, fn::toString);
        assertTrue(fn.get("config").get("public").asBoolean());
        assertEquals(fn.get("version").asInt(), fn.get("versions").size());
        server.anonymous().body("shout").post("/function/upper").then().statusCode(200).body(equalTo("SHOUT"));
    }

    @Test
    void refusedDeploysSayWhyWithTheRightStatus() {
        // A bad name, a missing handler, an unknown parameter, a bad value, not a jar: 400 before any VM work.
        server.given().body(new byte[] {1}).put("/v1/functions/Bad_Name?handler=com.example.Echo").then()
                .statusCode(400).body("error.code", equalTo("bad_request"));
        server.given().body(Fixtures.functions()).put("/v1/functions/x").then().statusCode(400)
                .body("error.message", equalTo("parameter 'handler' is required, like handler=com.example.Fn"));
        server.given().body(Fixtures.functions()).put("/v1/functions/x?handler=com.example.Echo&memroy=256").then()
                .statusCode(400).body("error.message", matchesPattern("unknown parameter 'memroy'.*"));
        server.given().body(Fixtures.functions()).put("/v1/functions/x?handler=com.example.Echo&timeout=soon").then()
                .statusCode(400).body("error.message", matchesPattern("timeout must be milliseconds.*"));
        server.given().body(Fixtures.functions()).put("/v1/functions/x?handler=com.example.Echo&maxInstances=0")
                .then().statusCode(400).body("error.message", equalTo("maxInstances must be between 1 and 1000, got 0"));
        server.given().body("not a jar").put("/v1/functions/x?handler=com.example.Echo").then().statusCode(400)
                .body("error.message", equalTo("not a jar: it does not start with a zip header (PK\\3\\4)"));
        server.given().put("/v1/functions/x?handler=com.example.Echo").then().statusCode(400)
                .body("error.message", equalTo("not a jar: the upload is empty"));
        // Init fails: 422 with what the function printed.
        server.deploy("badstatic", "com.example.BadStatic", "").then().statusCode(422)
                .body("error.code", equalTo("init_failed"))
                .body("error.output", matchesPattern("(?s).*loading config.*"));
        server.given().get("/v1/functions/badstatic").then().statusCode(404);
        // No token: nothing happens.
        server.anonymous().body(Fixtures.functions()).put("/v1/functions/x?handler=com.example.Echo").then()
                .statusCode(401).header("WWW-Authenticate", "Bearer realm=\"kiln\"");
    }

    private static JsonNode readTree(String s) {
        try {
            return JSON.readTree(s);
        } catch (IOException e) {
            throw new AssertionError(s, e);
        }
    }
}
