package io.kiln.gateway;

import io.kiln.gateway.cluster.Forwarder;
import io.kiln.gateway.connections.ConnectionLimits;
import io.kiln.gateway.connections.Connections;
import io.kiln.gateway.connections.Connections.Reason;
import io.kiln.gateway.testing.TestServer;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The connection limits against slow clients, over real sockets on loopback, on process-engine
 * servers with short timeouts: a head that never ends, a body that stalls or creeps, an idle
 * kept-alive connection, a long call and a follow stream that must not be cut, and the cap per
 * client address. Every time bound is a failure bound ("closed within the timeout plus
 * {@link #MARGIN}"); a lower bound is asserted only where the server's clock provably started
 * after the test's.
 */
class GatewayConnectionLimitsTest {

    private static final Duration HEAD = Duration.ofSeconds(1);
    private static final Duration BODY = Duration.ofSeconds(2);
    private static final Duration IDLE = Duration.ofSeconds(2);
    /** How late a close may come: the timer's own lateness plus a loaded 2-core machine's scheduling. */
    private static final Duration MARGIN = Duration.ofSeconds(5);
    private static final int CAP = 3;
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** Short timeouts and no cap (the head test opens hundreds of connections from one address). */
    private static TestServer slow() {
        TestServer s = TestServer.process("slow-clients", c -> c.withConnections(
                new ConnectionLimits(HEAD, BODY, IDLE, 0)));
        s.ensure("echo", "com.example.Echo", "");
        s.ensure("sleeper", "com.example.Sleeper", "timeout=30s");
        s.ensure("chatty", "com.example.Chatty", "");
        return s;
    }

    /** The default timeouts, at most {@link #CAP} connections per address. */
    private static TestServer capped() {
        return TestServer.process("capped", c -> c.withConnections(ConnectionLimits.DEFAULTS.withMaxPerClient(CAP)));
    }

    /**
     * 300 connections, each having sent a head that never ends (one in ten sent nothing at all),
     * are all closed within the head timeout plus the margin, and not before it: those that sent
     * part of a head read a 408, the silent ones just the end. Calls made meanwhile on normal
     * connections are answered. 300, not the report's 3,000: every connection costs this JVM
     * two descriptors (client and server side), and 300 already spread over every event loop
     * prove the same thing; the timers cost nothing per connection while they wait.
     */
    @Test
    void connectionsThatNeverFinishTheirHeadAreClosedAfterTheHeadTimeout() throws Exception {
        TestServer s = slow();
        Connections connections = s.gateway().connections();
        long before = connections.closedCount(Reason.HEADER_TIMEOUT);
        int n = 300;
        List<Socket> sockets = new ArrayList<>();
        long[] opened = new long[n];
        try {
            for (int i = 0; i < n; i++) {
                opened[i] = System.nanoTime(); // before the connect, so before the server's clock starts
                Socket socket = connect(s);
                sockets.add(socket);
                if (i % 10 != 0) {
                    send(socket, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
                }
                if (i % 100 == 99) {
                    assertEcho(s, "meanwhile " + i);
                }
            }
            String answer = rawError(408, "Request Timeout", "request_timeout",
                    "the request head did not arrive within 1 s");
            for (int i = 0; i < n; i++) {
                String got = readToEnd(sockets.get(i), opened[i] + HEAD.plus(MARGIN).toNanos(), "socket " + i);
                long elapsed = System.nanoTime() - opened[i];
                assertEquals(i % 10 != 0 ? answer : "", got, "socket " + i);
                assertTrue(elapsed >= HEAD.toNanos(), "socket " + i + " closed after " + elapsed / 1_000_000 + " ms");
            }
            assertEcho(s, "after");
        } finally {
            for (Socket socket : sockets) {
                socket.close();
            }
        }
        assertEquals(n, connections.closedCount(Reason.HEADER_TIMEOUT) - before);
        assertTrue(metrics(s).contains("kiln_connections_closed_total{node=\"local\",reason=\"header_timeout\"}"),
                "the metric is scraped");
    }

    /**
     * On a kept-alive connection, a next head dripped a byte every 100 ms, for as long as the
     * connection lasts, is still cut: the head clock starts at its first byte and later bytes do
     * not move it (a clock that restarted on each byte would never fire, and the bound fails).
     * The gateway closes while bytes are still coming, so the client may see a reset instead of
     * (part of) the 408: what it read must be a beginning of the 408.
     */
    @Test
    void aHeadDrippedAByteAtATimeIsStillCutAtTheHeadTimeout() throws Exception {
        TestServer s = slow();
        long before = s.gateway().connections().closedCount(Reason.HEADER_TIMEOUT);
        String answer = rawError(408, "Request Timeout", "request_timeout", "the request head did not arrive within 1 s");
        try (Socket socket = connect(s)) {
            send(socket, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(200, readAnswer(socket).status());
            byte[] drip = "GET /healthz HTTP/1.1\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII);
            long first = System.nanoTime(); // before the first byte, so before the server's head clock
            long deadline = first + HEAD.plus(MARGIN).toNanos();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            socket.setSoTimeout(100); // the drip's pace: one byte per read that times out
            boolean closed = false;
            for (int i = 0; !closed; i++) {
                if (System.nanoTime() > deadline) {
                    fail("a dripping head was not cut within " + HEAD.plus(MARGIN).toMillis() + " ms");
                }
                try {
                    if (got.size() == 0) {
                        socket.getOutputStream().write(i < drip.length ? drip[i] : 'a');
                    }
                    int n = in.read();
                    if (n < 0) {
                        closed = true;
                    } else {
                        got.write(n);
                    }
                } catch (SocketTimeoutException e) {
                    // nothing from the server yet: drip on
                } catch (SocketException e) {
                    closed = true; // reset: the gateway closed with our last byte unread
                }
            }
            long elapsed = System.nanoTime() - first;
            String read = got.toString(StandardCharsets.UTF_8);
            assertTrue(answer.startsWith(read), "a beginning of the 408: " + read);
            assertTrue(elapsed >= HEAD.toNanos(), "cut after " + elapsed / 1_000_000 + " ms");
        }
        assertEquals(1, s.gateway().connections().closedCount(Reason.HEADER_TIMEOUT) - before);
    }

    /** A body that stops arriving is answered 408 and closed after the body timeout. */
    @Test
    void aStalledBodyIsAnswered408AndClosed() throws Exception {
        TestServer s = slow();
        long before = s.gateway().connections().closedCount(Reason.BODY_TIMEOUT);
        try (Socket socket = connect(s)) {
            send(socket, "POST /function/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.token()
                    + "\r\nContent-Length: 10\r\n\r\nabc");
            long sent = System.nanoTime(); // the server's last read is after this
            String got = readToEnd(socket, sent + BODY.plus(MARGIN).toNanos(), "stalled body");
            long elapsed = System.nanoTime() - sent;
            assertEquals(rawError(408, "Request Timeout", "request_timeout",
                    "the request body stopped arriving: nothing for 2 s"), got);
            assertTrue(elapsed >= BODY.toNanos() - TimeUnit.MILLISECONDS.toNanos(50),
                    "closed after " + elapsed / 1_000_000 + " ms");
        }
        assertEquals(1, s.gateway().connections().closedCount(Reason.BODY_TIMEOUT) - before);
        assertEcho(s, "still serving");
    }

    /** A body that keeps moving, a byte every 200 ms for 3 s (longer than the body timeout), is not cut. */
    @Test
    void aSlowButMovingBodyIsNotCut() throws Exception {
        TestServer s = slow();
        String body = "abcdefghijklmno";
        try (Socket socket = connect(s)) {
            send(socket, "POST /function/echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.token()
                    + "\r\nContent-Length: " + body.length() + "\r\n\r\n");
            long start = System.nanoTime();
            for (char c : body.toCharArray()) {
                Thread.sleep(200); // the pace under test, well inside the 2 s timeout
                send(socket, String.valueOf(c));
            }
            assertTrue(System.nanoTime() - start > BODY.toNanos(), "the upload outlasted the body timeout");
            Answer a = readAnswer(socket);
            assertEquals(200, a.status(), a::toString);
            assertEquals(body, a.body());
        }
    }

    /** A kept-alive connection left idle is closed after the idle timeout. */
    @Test
    void anIdleKeptAliveConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        TestServer s = slow();
        long before = s.gateway().connections().closedCount(Reason.IDLE_TIMEOUT);
        try (Socket socket = connect(s)) {
            long sent = System.nanoTime(); // the server's idle clock starts after this, at its answer
            send(socket, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
            Answer a = readAnswer(socket);
            assertEquals(200, a.status(), a::toString);
            String rest = readToEnd(socket, sent + IDLE.plus(MARGIN).toNanos(), "idle connection");
            long elapsed = System.nanoTime() - sent;
            assertEquals("", rest, "closed without a word");
            assertTrue(elapsed >= IDLE.toNanos(), "closed after " + elapsed / 1_000_000 + " ms");
        }
        assertTrue(s.gateway().connections().closedCount(Reason.IDLE_TIMEOUT) - before >= 1);
    }

    /**
     * A call that runs longer than every timeout (3.5 s) is answered on its connection, which
     * then serves another request: a connection with a call in flight is not idle.
     */
    @Test
    void aCallLongerThanTheTimeoutsIsNotCut() throws Exception {
        TestServer s = slow();
        try (Socket socket = connect(s)) {
            long start = System.nanoTime();
            String call = "sleep 3500";
            send(socket, "POST /function/sleeper HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.token()
                    + "\r\nContent-Length: " + call.length() + "\r\n\r\n" + call);
            Answer a = readAnswer(socket);
            assertEquals(200, a.status(), a::toString);
            assertEquals("slept 3500", a.body());
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(3500));
            send(socket, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(200, readAnswer(socket).status(), "the same connection serves the next request");
        }
    }

    /**
     * A log follower that hears nothing for longer than the idle timeout (a 3 s call of another
     * function runs meanwhile) still gets the next line: a streaming response is not idle.
     */
    @Test
    void aQuietFollowStreamIsNotCut() throws Exception {
        TestServer s = slow();
        try (Socket socket = connect(s)) {
            send(socket, "GET /v1/functions/chatty/logs?follow=true&limit=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                    + s.token() + "\r\n\r\n");
            String head = readHead(socket.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 200 "), head);
            long quiet = System.nanoTime();
            assertEquals("slept 3000", call(s, "sleeper", "sleep 3000"));
            assertTrue(System.nanoTime() - quiet > IDLE.toNanos(), "the stream was quiet past the idle timeout");
            assertEquals("printed 1", call(s, "chatty", "1"));
            socket.setSoTimeout((int) MARGIN.toMillis() * 6);
            ByteArrayOutputStream seen = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            while (!seen.toString(StandardCharsets.UTF_8).contains("\"text\":\"line 0\"")) {
                int b = in.read();
                if (b < 0) {
                    fail("the follow stream ended: " + seen.toString(StandardCharsets.UTF_8));
                }
                seen.write(b);
            }
        }
    }

    /**
     * With a cap of 3 per address, a 4th connection is answered 503 {@code too_many_connections}
     * and closed while the 3 stay open and serve (a peer's forward gets "elsewhere"); once one
     * closes, a new one is served.
     */
    @Test
    void connectionsOverThePerAddressCapAreRefusedAndRoomComesBack() throws Exception {
        TestServer s = capped();
        Connections connections = s.gateway().connections();
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        waitFor(() -> connections.open(loopback), 0, "no connection left from earlier");
        long before = connections.closedCount(Reason.TOO_MANY_CONNECTIONS);
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < CAP; i++) {
                held.add(connect(s));
                // Accepts are spread over the event loops: each must be counted before the next
                // one comes, or the refusal could fall on an earlier socket.
                waitFor(() -> connections.open(loopback), i + 1, "connection " + i + " counted");
            }
            try (Socket extra = connect(s)) {
                String got = readToEnd(extra, System.nanoTime() + MARGIN.toNanos(), "the connection over the cap");
                String json = "{\"error\":{\"code\":\"too_many_connections\",\"message\":\"this address has 3 connections"
                        + " open to this node, the most one client may; close one or try again later\"}}";
                assertEquals("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: "
                        + json.length() + "\r\nConnection: close\r\nX-Kiln-Node: local\r\nRetry-After: 1\r\n"
                        + "X-Kiln-Elsewhere: too_many_connections\r\n\r\n" + json, got);
            }
            assertEquals(1, connections.closedCount(Reason.TOO_MANY_CONNECTIONS) - before);
            // A peer forwarding a call over the cap is told to take it elsewhere, not given a failure.
            Vertx vertx = Vertx.vertx();
            try {
                Forwarder.Outcome o = new Forwarder(vertx, "peer", "secret", 5000).forward(s.url(), HttpMethod.POST,
                                "/function/echo", MultiMap.caseInsensitiveMultiMap(), Buffer.buffer("x"), true, 10_000)
                        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                assertEquals(new Forwarder.Elsewhere("too_many_connections"), o);
            } finally {
                vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
            assertEquals(2, connections.closedCount(Reason.TOO_MANY_CONNECTIONS) - before);
            for (Socket socket : held) {
                send(socket, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals(200, readAnswer(socket).status(), "a connection under the cap serves");
            }
            held.remove(0).close();
            waitFor(() -> connections.open(loopback), CAP - 1, "the closed connection uncounted");
            Socket again = connect(s);
            held.add(again);
            send(again, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(200, readAnswer(again).status(), "room for one again");
        } finally {
            for (Socket socket : held) {
                socket.close();
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------

    private static Socket connect(TestServer s) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", s.gateway().port()), 10_000);
        return socket;
    }

    private static void send(Socket socket, String text) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** The gateway's connection-level error answer, byte for byte. */
    private static String rawError(int status, String reason, String code, String message) {
        String json = "{\"error\":{\"code\":\"" + code + "\",\"message\":\"" + message + "\"}}";
        return "HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: application/json\r\nContent-Length: "
                + json.length() + "\r\nConnection: close\r\nX-Kiln-Node: local\r\n\r\n" + json;
    }

    /** Everything the server sends until it closes (a reset counts as closed); fails at {@code deadline}. */
    private static String readToEnd(Socket socket, long deadline, String what) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        InputStream in = socket.getInputStream();
        byte[] buf = new byte[4096];
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                fail(what + ": still open at the deadline, after " + got.toString(StandardCharsets.UTF_8));
            }
            socket.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            int n;
            try {
                n = in.read(buf);
            } catch (SocketTimeoutException e) {
                continue; // the loop's check fails it
            } catch (SocketException e) {
                return got.toString(StandardCharsets.UTF_8) + "<reset>";
            }
            if (n < 0) {
                return got.toString(StandardCharsets.UTF_8);
            }
            got.write(buf, 0, n);
        }
    }

    record Answer(int status, String head, String body) {
    }

    /** One answer with a Content-Length, read within 30 s; the connection stays open. */
    private static Answer readAnswer(Socket socket) throws IOException {
        socket.setSoTimeout(30_000);
        InputStream in = socket.getInputStream();
        String head = readHead(in);
        int length = 0;
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).strip());
            }
        }
        byte[] body = in.readNBytes(length);
        assertEquals(length, body.length, "the whole body of " + head);
        return new Answer(Integer.parseInt(head.substring(9, 12)), head, new String(body, StandardCharsets.UTF_8));
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                fail("closed in the head: " + head.toString(StandardCharsets.ISO_8859_1));
            }
            head.write(b);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static String call(TestServer s, String function, String body) throws Exception {
        HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create(s.url() + "/function/" + function))
                .header("Authorization", "Bearer " + s.token()).POST(HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r::body);
        return r.body();
    }

    private static void assertEcho(TestServer s, String text) throws Exception {
        assertEquals(text, call(s, "echo", text));
    }

    private static String metrics(TestServer s) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create(s.url() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** Polls until {@code value} is {@code expected}: the server counts a connection on its own event loop. */
    private static void waitFor(IntSupplier value, int expected, String what) throws InterruptedException {
        long deadline = System.nanoTime() + MARGIN.toNanos();
        while (value.getAsInt() != expected) {
            if (System.nanoTime() > deadline) {
                fail(what + ": " + value.getAsInt() + ", not " + expected);
            }
            Thread.sleep(5);
        }
    }
}
