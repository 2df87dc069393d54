package io.kiln.gateway.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The INVOKE http metadata, from requests sent byte for byte to a real Vert.x server. */
class HttpHeadTest {

    private static Vertx vertx;
    private static HttpServer server;

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer().requestHandler(req -> {
            String rest = HttpHead.rest(req.path(), req.path(), "/function/f");
            req.response().end(Json.buffer(HttpHead.of(req, rest)));
        }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() {
        vertx.close();
    }

    /** Sends {@code head} as written and returns the answer's body (read by its Content-Length). */
    private static String send(String head) throws IOException {
        try (Socket s = new Socket("127.0.0.1", server.actualPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(head.replace("\n", "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder h = new StringBuilder();
            while (!h.toString().endsWith("\r\n\r\n")) {
                int c = in.read();
                if (c < 0) {
                    throw new IOException("closed in the head: " + h);
                }
                h.append((char) c);
            }
            Matcher m = Pattern.compile("(?im)^content-length: *(\\d+)").matcher(h);
            if (!m.find()) {
                throw new IOException("no content-length: " + h);
            }
            return new String(in.readNBytes(Integer.parseInt(m.group(1))), StandardCharsets.UTF_8);
        }
    }

    @Test
    void headersKeepOrderRepeatsAndSpellingWithoutHopByHopOrAuthorization() throws IOException {
        String json = send("""
                PUT /function/f/a%2Fb/c?x=1&y=%20 HTTP/1.1
                Host: example
                X-Multi: 1
                Authorization: Bearer secret
                Connection: close, X-Private
                x-multi: 2
                X-Private: hop
                Keep-Alive: timeout=5
                TE: trailers
                Proxy-Authorization: Basic abc
                Content-Length: 0

                """);
        assertEquals("{\"method\":\"PUT\",\"path\":\"/a%2Fb/c\",\"query\":\"x=1&y=%20\",\"headers\":"
                + "[[\"Host\",\"example\"],[\"X-Multi\",\"1\"],[\"x-multi\",\"2\"],[\"Content-Length\",\"0\"]]}", json);
    }

    @Test
    void theRouteItselfIsSlashAndNoQueryIsEmpty() throws IOException {
        String json = send("GET /function/f HTTP/1.1\nHost: h\nConnection: close\n\n");
        assertTrue(json.startsWith("{\"method\":\"GET\",\"path\":\"/\",\"query\":\"\","), json);
    }

    @Test
    void restFallsBackToTheNormalisedPath() {
        assertEquals("/x", HttpHead.rest("/function/./f/x", "/function/f/x", "/function/f"));
        assertEquals("/", HttpHead.rest("/function/f", "/function/f", "/function/f"));
        assertEquals("/", HttpHead.rest("/function/f/", "/function/f/", "/function/f"));
        assertEquals("/", HttpHead.rest("/function/ff", "/function/ff", "/function/f"),
                "a longer name is not this route");
    }
}
