package io.kiln.function;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class HttpMessagesTest {

    @Test
    void requestPartsAndDecodedQuery() throws Exception {
        HttpRequest r = HttpRequest.builder().method("post").path("/a%20b").query("?q=x%26y&q=2&flag&e=")
                .header("Content-Type", "text/plain").body("héllo").build();
        assertEquals("POST", r.method());
        assertEquals("/a%20b", r.path());
        assertEquals("q=x%26y&q=2&flag&e=", r.query());
        assertEquals(Map.of("q", List.of("x&y", "2"), "flag", List.of(""), "e", List.of("")),
                r.queryParameters());
        assertEquals(Optional.of("x&y"), r.queryParameter("q"));
        assertEquals(Optional.of("text/plain"), r.header("content-type"));
        assertEquals("héllo", r.bodyAsString());
        assertEquals(6, r.bodyLength());
        assertEquals("héllo", new String(r.bodyStream().readAllBytes(), StandardCharsets.UTF_8));
        assertEquals("POST /a%20b?q=x%26y&q=2&flag&e= [Content-Type=text/plain] (6 body bytes)",
                r.toString());
    }

    @Test
    void requestIsImmutable() {
        byte[] body = {1, 2};
        HttpRequest r = HttpRequest.builder().body(body).build();
        body[0] = 9;
        r.body()[1] = 9;
        assertArrayEquals(new byte[]{1, 2}, r.body());
        HttpRequest copy = r.toBuilder().header("A", "1").build();
        assertEquals(0, r.headers().size());
        assertEquals(1, copy.headers().size());
        assertEquals("GET", HttpRequest.of("get", "/").method());
    }

    @Test
    void requestRefusesBadMethodAndPath() {
        assertThrows(IllegalArgumentException.class, () -> HttpRequest.builder().path("relative"));
        assertThrows(IllegalArgumentException.class, () -> HttpRequest.builder().method("GE T"));
        assertThrows(IllegalArgumentException.class, () -> HttpRequest.builder().method(""));
    }

    @Test
    void responseFactories() {
        HttpResponse ok = HttpResponse.ok("hi");
        assertEquals(200, ok.status());
        assertEquals(Optional.of("text/plain; charset=utf-8"), ok.headers().first("content-type"));
        assertEquals("hi", ok.bodyAsString());
        HttpResponse json = HttpResponse.json(201, "{}");
        assertEquals(Optional.of("application/json"), json.headers().first("Content-Type"));
        assertEquals(204, HttpResponse.status(204).status());
        assertEquals(0, HttpResponse.status(204).bodyLength());
        HttpResponse built = HttpResponse.builder(302).header("Location", "/x")
                .header("Set-Cookie", "a").header("Set-Cookie", "b").build();
        assertEquals(List.of("a", "b"), built.headers().all("set-cookie"));
        assertEquals(302, built.toBuilder().build().status());
        assertThrows(IllegalArgumentException.class, () -> HttpResponse.status(99));
        assertThrows(IllegalArgumentException.class, () -> HttpResponse.status(600));
    }
}
