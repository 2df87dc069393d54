package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How invoke prints what it gets: the rules that depend on the terminal and on the bytes, which
 * the real gateway (CliEndToEndIT) cannot vary. A stand-in server answers with fixed replies.
 */
class InvokeOutputTest {

    @TempDir
    Path home;

    private HttpServer server;
    private volatile int status = 200;
    private volatile String contentType = "text/plain; charset=utf-8";
    private volatile byte[] body = "hello".getBytes(StandardCharsets.UTF_8);
    private volatile boolean callId = true;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/function/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            if (contentType != null) {
                exchange.getResponseHeaders().add("Content-Type", contentType);
            }
            if (callId) {
                exchange.getResponseHeaders().add("X-Kiln-Call-Id", "00000000000000ab");
                exchange.getResponseHeaders().add("X-Kiln-Start", "warm");
            }
            exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private TestCli cli(boolean outTty) {
        return new TestCli(home).env("KILN_URL", "http://127.0.0.1:" + server.getAddress().getPort())
                .env("KILN_TOKEN", "t").ttys(false, outTty, false);
    }

    @Test
    void textGetsANewlineOnlyOnATerminal() {
        assertEquals("hello", cli(false).run("invoke", "f").out());
        assertEquals("hello\n", cli(true).run("invoke", "f").out());
        body = "hello\n".getBytes(StandardCharsets.UTF_8);
        assertEquals("hello\n", cli(true).run("invoke", "f").out(), "no second newline");
    }

    @Test
    void bytesAreWrittenUntouchedEvenOnATerminal() {
        byte[] bytes = new byte[256];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) i;
        }
        body = bytes;
        contentType = "application/octet-stream";
        assertArrayEquals(bytes, cli(true).run("invoke", "f").stdout());
        contentType = null;
        assertArrayEquals(bytes, cli(true).run("invoke", "f").stdout());
    }

    @Test
    void aFunctionsErrorStatusIsPrintedAndExits1() {
        status = 404;
        body = "no such item".getBytes(StandardCharsets.UTF_8);
        TestCli.Result r = cli(false).run("invoke", "f", "-v");
        assertEquals(Exit.FAILED, r.exit());
        assertEquals("no such item", r.out(), "the function's own 404 is its answer, not 'no function'");
        assertTrue(r.stderr().contains("< 404  call 00000000000000ab  warm start"), r.stderr());
    }

    @Test
    void aPlatformErrorIsExplainedOnStderr() {
        status = 504;
        contentType = "application/json";
        body = "{\"error\":{\"code\":\"timeout\",\"message\":\"no answer within 100 ms\",\"callId\":\"00000000000000ab\"}}"
                .getBytes(StandardCharsets.UTF_8);
        TestCli.Result r = cli(false).run("invoke", "f");
        assertEquals(Exit.FAILED, r.exit());
        assertEquals("", r.out());
        assertEquals("The call to f failed (timeout, HTTP 504): no answer within 100 ms [call 00000000000000ab]\n",
                r.stderr());
    }

    @Test
    void jsonOutput() {
        TestCli.Result r = cli(true).run("invoke", "f", "-o", "json");
        assertEquals(0, r.exit());
        JsonNode j = Json.parse(r.stdout());
        assertEquals(200, j.get("status").asInt());
        assertEquals("hello", j.get("body").asText());
        assertEquals("00000000000000ab", j.get("callId").asText());
        assertEquals("warm", j.get("headers").get("x-kiln-start").asText());
    }

    @Test
    void aPlatform404WithoutACallIdIsNoSuchFunction() {
        status = 404;
        callId = false;
        contentType = "application/json";
        body = "{\"error\":{\"code\":\"not_found\",\"message\":\"no function named f\"}}".getBytes(StandardCharsets.UTF_8);
        TestCli.Result r = cli(false).run("invoke", "f");
        assertEquals(Exit.NOT_FOUND, r.exit());
        assertEquals("No function named 'f'. `kiln ls` lists what is deployed.\n", r.stderr());
    }
}
