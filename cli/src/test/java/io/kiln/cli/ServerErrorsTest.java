package io.kiln.cli;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ServerErrorsTest {

    private static final Settings WITH_TOKEN = new Settings(URI.create("http://127.0.0.1:8080"), "default", "t", "x");
    private static final Settings NO_TOKEN = new Settings(URI.create("http://127.0.0.1:8080"), "default", null, null);

    private static byte[] error(String code, String message) {
        return ("{\"error\":{\"code\":\"" + code + "\",\"message\":\"" + message + "\"}}")
                .getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void exitCodesFromHttpStatuses() {
        assertEquals(Exit.OK, ServerErrors.exitCode(200));
        assertEquals(Exit.OK, ServerErrors.exitCode(204));
        assertEquals(Exit.FAILED, ServerErrors.exitCode(400));
        assertEquals(Exit.AUTH, ServerErrors.exitCode(401));
        assertEquals(Exit.FAILED, ServerErrors.exitCode(403));
        assertEquals(Exit.NOT_FOUND, ServerErrors.exitCode(404));
        assertEquals(Exit.FAILED, ServerErrors.exitCode(413));
        assertEquals(Exit.FAILED, ServerErrors.exitCode(429));
        assertEquals(Exit.FAILED, ServerErrors.exitCode(500));
        assertEquals(Exit.FAILED, ServerErrors.exitCode(503));
    }

    @Test
    void refusedTokenAndMissingToken() {
        CliException bad = ServerErrors.of(401, error("unauthorized", "bad token"), WITH_TOKEN, null);
        assertEquals(Exit.AUTH, bad.exitCode());
        assertEquals("The server refused the token (401). Run `kiln login` or set KILN_TOKEN.", bad.getMessage());
        CliException none = ServerErrors.of(401, new byte[0], NO_TOKEN, "f");
        assertEquals(Exit.AUTH, none.exitCode());
        assertEquals("The server needs a token (401) and none is set. Run `kiln login` or set KILN_TOKEN.",
                none.getMessage());
    }

    @Test
    void unknownFunction() {
        CliException e = ServerErrors.of(404, error("not_found", "no function named x"), WITH_TOKEN, "x");
        assertEquals(Exit.NOT_FOUND, e.exitCode());
        assertEquals("No function named 'x'. `kiln ls` lists what is deployed.", e.getMessage());
        CliException other = ServerErrors.of(404, error("not_found", "no call 12"), WITH_TOKEN, null);
        assertEquals(Exit.NOT_FOUND, other.exitCode());
        assertEquals("The server answered 404 (not_found): no call 12.", other.getMessage());
    }

    @Test
    void otherFailuresSayWhatTheServerSaid() {
        CliException e = ServerErrors.of(503, error("shutting_down", "the server is stopping"), WITH_TOKEN, "f");
        assertEquals(Exit.FAILED, e.exitCode());
        assertEquals("The server answered 503 (shutting_down): the server is stopping.", e.getMessage());
        assertEquals("The server answered 502.", ServerErrors.of(502, "<html>".getBytes(StandardCharsets.UTF_8),
                WITH_TOKEN, null).getMessage());
    }

    @Test
    void unreachable() {
        CliException e = ServerErrors.unreachable(URI.create("http://127.0.0.1:8080"));
        assertEquals(Exit.UNREACHABLE, e.exitCode());
        assertEquals("Cannot reach the Kiln server at http://127.0.0.1:8080 — is it running? Start it with ./run.sh",
                e.getMessage());
    }
}
