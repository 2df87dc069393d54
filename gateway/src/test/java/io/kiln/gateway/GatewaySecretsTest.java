package io.kiln.gateway;

import io.kiln.agent.testing.Fixtures;
import io.kiln.gateway.testing.TestServer;
import io.restassured.response.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A function's environment values are secrets to everything but the function: masked in
 * describe, the listing and deploy answers (shown with ?reveal=env), absent from the gateway's
 * log, stdout and stderr, from health and metrics, and from the errors of failed deploys; the
 * version file holding them is owner-only. The function itself sees them.
 */
class GatewaySecretsTest {

    private static final String SECRET = "hunter2";
    /** Everything the gateway logs (every level) and prints while this class runs. */
    private static final StringBuffer CAPTURED = new StringBuffer();
    private static final Handler LOG = new Handler() {
        @Override
        public void publish(LogRecord r) {
            CAPTURED.append(r.getLevel()).append(' ').append(r.getLoggerName()).append(": ")
                    .append(new java.util.logging.SimpleFormatter().formatMessage(r)).append('\n');
            for (Throwable t = r.getThrown(); t != null; t = t.getCause()) {
                CAPTURED.append("  ").append(t).append('\n');
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    /** Held: JUL keeps loggers weakly, and a collected one would lose its level. */
    private static final Logger KILN = Logger.getLogger("io.kiln");
    private static Level kilnLevel;
    private static PrintStream out;
    private static PrintStream err;
    private static TestServer server;

    /** Writes to {@code original} and to {@link #CAPTURED}. */
    private static PrintStream tee(PrintStream original) {
        return new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                original.write(b);
                CAPTURED.append((char) b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                original.write(b, off, len);
                CAPTURED.append(new String(b, off, len, StandardCharsets.UTF_8));
            }
        }, true, StandardCharsets.UTF_8);
    }

    @BeforeAll
    static void start() {
        Logger root = Logger.getLogger("");
        // Kiln's own debug lines too (none may carry a value); libraries at the level a gateway
        // runs with. (Vert.x web's FINEST router trace prints request URIs, query strings and so
        // a deploy's env included: docs/SECURITY.md says so.)
        kilnLevel = KILN.getLevel();
        KILN.setLevel(Level.ALL);
        LOG.setLevel(Level.ALL);
        root.addHandler(LOG);
        out = System.out;
        err = System.err;
        System.setOut(tee(out));
        System.setErr(tee(err));
        // Started after the capture: its start-up log is in it too.
        server = TestServer.process("secrets", c -> c);
    }

    @AfterAll
    static void stop() {
        Logger.getLogger("").removeHandler(LOG);
        KILN.setLevel(kilnLevel);
        System.setOut(out);
        System.setErr(err);
    }

    private static String deployQuery(String handler) {
        return "handler=" + handler + "&memory=256&env=SECRET=" + SECRET + "&env=GREETING=" + SECRET;
    }

    private static Response deploy(String name, String query) {
        return server.given().contentType("application/java-archive").body(Fixtures.functions())
                .put("/v1/functions/" + name + "?" + query);
    }

    private static void noSecret(String where, String text) {
        assertFalse(text.contains(SECRET), where + " shows the value: " + text);
    }

    @Test
    void valuesAreMaskedEverywhereButTheFunctionAndAnExplicitReveal() throws Exception {
        // A streamed deploy: its progress lines and final description.
        Response streamed = server.given().contentType("application/java-archive").accept("application/x-ndjson")
                .body(Fixtures.functions()).put("/v1/functions/secret?" + deployQuery("com.example.Env"));
        assertEquals(200, streamed.statusCode(), streamed::asString);
        noSecret("the deploy's NDJSON stream", streamed.asString());
        assertTrue(streamed.asString().contains("\"env\":{\"GREETING\":\"***\",\"SECRET\":\"***\"}"),
                streamed::asString);
        // A plain redeploy: its answer.
        Response plain = deploy("secret", deployQuery("com.example.Env"));
        assertEquals(200, plain.statusCode(), plain::asString);
        assertEquals(Map.of("GREETING", "***", "SECRET", "***"), plain.jsonPath().getMap("config.env"));
        noSecret("the deploy's answer", plain.asString());

        // Describe: names with masked values, exactly.
        Response described = server.given().get("/v1/functions/secret");
        assertEquals(200, described.statusCode());
        assertEquals("{\"GREETING\":\"***\",\"SECRET\":\"***\"}",
                io.kiln.gateway.http.Json.MAPPER.readTree(described.asString()).get("config").get("env").toString());
        noSecret("describe", described.asString());
        // Asked for explicitly, with the token: the values.
        Response revealed = server.given().get("/v1/functions/secret?reveal=env");
        assertEquals("{\"GREETING\":\"" + SECRET + "\",\"SECRET\":\"" + SECRET + "\"}",
                io.kiln.gateway.http.Json.MAPPER.readTree(revealed.asString()).get("config").get("env").toString());
        server.anonymous().get("/v1/functions/secret?reveal=env").then().statusCode(401);
        server.given().get("/v1/functions/secret?reveal=all").then().statusCode(400)
                .body("error.message", equalTo("reveal takes only env (to show the environment's values), got"
                        + " \"all\""));
        noSecret("the listing", server.given().get("/v1/functions").asString());
        assertTrue(server.given().get("/v1/functions").asString().contains("\"SECRET\":\"***\""));
        noSecret("healthz", server.given().get("/healthz").asString());
        noSecret("metrics", server.given().get("/metrics").asString());

        // The function sees its value.
        String answer = server.given().body("x").post("/function/secret").then().statusCode(200).extract().asString();
        assertTrue(answer.startsWith(SECRET + " secret:2 "), answer);

        // On disk: the version file holds the values, readable by its owner alone.
        Path file = server.dataDir().resolve("functions/secret/v2.json");
        assertTrue(Files.readString(file).contains(SECRET), "the real value is stored");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                server.dataDir().resolve("functions/secret/v1.json"))));

        // Failed deploys carrying the secret: their errors do not repeat it.
        Response init = deploy("broken", deployQuery("com.example.BadStatic"));
        assertEquals(422, init.statusCode(), init::asString);
        noSecret("a failed init's error", init.asString());
        Response noName = deploy("broken", "handler=com.example.Env&env=" + SECRET);
        assertEquals(400, noName.statusCode(), noName::asString);
        assertEquals("env must be NAME=value, got an entry with no '=' (7 characters)",
                noName.jsonPath().getString("error.message"));
        Response twice = deploy("broken", deployQuery("com.example.Env") + "&env=SECRET=" + SECRET);
        assertEquals(400, twice.statusCode());
        assertEquals("env SECRET is given more than once", twice.jsonPath().getString("error.message"));
        Response badName = deploy("broken", "handler=com.example.Env&env=NOT-A-NAME=" + SECRET);
        assertEquals(400, badName.statusCode());
        noSecret("a bad env name's error", badName.asString());
        Response forbidden = deploy("broken", deployQuery("com.example.Env") + "&onFailure=http://10.0.0.1/x");
        assertEquals(400, forbidden.statusCode());
        noSecret("a refused destination's error", forbidden.asString());

        String captured = CAPTURED.toString();
        assertTrue(captured.contains("deployed secret@2"), "the capture works: " + captured);
        noSecret("the gateway's log and output", captured);
    }
}
