package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FormatTest {

    @Test
    void bytes() {
        assertEquals("0 B", Format.bytes(0));
        assertEquals("1023 B", Format.bytes(1023));
        assertEquals("1.0 KiB", Format.bytes(1024));
        assertEquals("1.5 MiB", Format.bytes(3 << 19));
        assertEquals("2.0 GiB", Format.bytes(2L << 30));
    }

    @Test
    void millisInTheLargestExactUnit() {
        assertEquals("0", Format.millis(0));
        assertEquals("250ms", Format.millis(250));
        assertEquals("1500ms", Format.millis(1500));
        assertEquals("30s", Format.millis(30_000));
        assertEquals("5m", Format.millis(300_000));
        assertEquals("2h", Format.millis(7_200_000));
    }

    @Test
    void tableColumnsLineUp() {
        String t = Format.table(List.of("NAME", "VERSION", "HANDLER"),
                List.of(List.of("hello", "12", "com.example.Hello"), List.of("a", "1", "X")));
        assertEquals("""
                NAME   VERSION  HANDLER
                hello  12       com.example.Hello
                a      1        X
                """, t);
    }

    @Test
    void textDetection() {
        byte[] text = "héllo".getBytes(StandardCharsets.UTF_8);
        assertTrue(Format.isText(null, text));
        assertTrue(Format.isText("application/json", new byte[]{(byte) 0xff}), "the content type decides");
        assertTrue(Format.isText("text/plain; charset=utf-8", text));
        assertFalse(Format.isText("application/octet-stream", text));
        assertFalse(Format.isText(null, new byte[]{'a', 0, 'b'}));
        assertFalse(Format.isText(null, new byte[]{(byte) 0xc3, (byte) 0x28}));
    }

    @Test
    void callReplyJsonUsesBodyForTextAndBase64ForBytes() {
        CallReply text = new CallReply(200, List.of(Map.entry("Content-Type", "text/plain"),
                Map.entry("X-Kiln-Call-Id", "00000000000000ab"), Map.entry("Vary", "a"), Map.entry("vary", "b")),
                "00000000000000ab", "hi\n".getBytes(StandardCharsets.UTF_8));
        JsonNode j = text.toJson();
        assertEquals(200, j.get("status").asInt());
        assertEquals("hi\n", j.get("body").asText());
        assertFalse(j.has("bodyBase64"));
        assertEquals("00000000000000ab", j.get("callId").asText());
        assertEquals("text/plain", j.get("headers").get("content-type").asText());
        assertEquals("a, b", j.get("headers").get("vary").asText());

        CallReply bytes = new CallReply(200, List.of(Map.entry("Content-Type", "application/octet-stream")), null,
                new byte[]{0, 1, 2, (byte) 0xff});
        JsonNode b = bytes.toJson();
        assertEquals("AAEC/w==", b.get("bodyBase64").asText());
        assertFalse(b.has("body"));
        assertTrue(b.get("callId").isNull());
    }

    @Test
    void kilnErrorsAreToldApartFromAFunctionsOwnAnswer() {
        byte[] error = "{\"error\":{\"code\":\"timeout\",\"message\":\"too slow\"}}".getBytes(StandardCharsets.UTF_8);
        assertEquals("timeout", new CallReply(504, List.of(Map.entry("content-type", "application/json")), "1", error)
                .kilnError().get("code").asText());
        assertEquals(null, new CallReply(200, List.of(Map.entry("content-type", "application/json")), "1", error)
                .kilnError(), "a 200 is the function's answer, whatever it says");
        assertEquals(null, new CallReply(500, List.of(Map.entry("content-type", "text/plain")), "1", error)
                .kilnError());
    }

    @Test
    void callFailureMessages() {
        JsonNode timeout = Json.parse("{\"code\":\"timeout\",\"message\":\"no answer within 1000 ms\","
                + "\"callId\":\"00000000000000ab\"}");
        assertEquals("The call to f failed (timeout, HTTP 504): no answer within 1000 ms [call 00000000000000ab]",
                InvokeCommand.callFailure("f", 504, timeout, null));
        JsonNode busy = Json.parse("{\"code\":\"too_many_requests\",\"message\":\"the queue of f is full\"}");
        assertEquals("f is busy (too_many_requests): the queue of f is full. Retry after 2 s",
                InvokeCommand.callFailure("f", 429, busy, "2"));
        JsonNode start = Json.parse("{\"code\":\"start_failed\",\"message\":\"init failed\",\"output\":\"a\\nb\\n\"}");
        assertEquals("The call to f failed (start_failed, HTTP 502): init failed\n\nThe function's output:\n  | a\n  | b",
                InvokeCommand.callFailure("f", 502, start, null));
    }

    @Test
    void deployFailureShowsTheInitOutputUnderAHeading() {
        JsonNode e = Json.parse("{\"code\":\"init_failed\",\"message\":\"static init of com.example.BadStatic threw\","
                + "\"output\":\"loading config\\njava.lang.IllegalStateException: no config\\n\"}");
        assertEquals("""
                Deploy of 'bad' failed (init_failed): static init of com.example.BadStatic threw

                The function's output during init:
                  | loading config
                  | java.lang.IllegalStateException: no config""", DeployCommand.deployFailure("bad", e));
        JsonNode plain = Json.parse("{\"code\":\"bad_request\",\"message\":\"memory must be a whole number\"}");
        assertEquals("Deploy of 'x' failed (bad_request): memory must be a whole number",
                DeployCommand.deployFailure("x", plain));
    }

    @Test
    void listTable() {
        JsonNode all = Json.parse("""
                {"functions":[
                  {"name":"hello","version":3,"handler":"com.example.hello.Hello","config":{"memoryMib":256},
                   "state":{"live":2,"idle":1,"inFlight":1,"queued":0}},
                  {"name":"resize","version":1,"handler":"com.example.Thumbnail","config":{"memoryMib":1024},
                   "state":{"live":0,"idle":0}}]}
                """);
        assertEquals("""
                NAME    VERSION  HANDLER                  MEMORY    LIVE  IDLE
                hello   3        com.example.hello.Hello  256 MiB   2     1
                resize  1        com.example.Thumbnail    1024 MiB  0     0
                """, ListCommand.table(all));
        assertTrue(ListCommand.table(Json.parse("{\"functions\":[]}")).startsWith("No functions deployed."));
    }

    @Test
    void describeBlocks() {
        JsonNode fn = Json.parse("""
                {"name":"hello","version":2,"handler":"com.example.hello.Hello",
                 "config":{"memoryMib":256,"timeoutMs":30000,"env":{"A":"1","B":"x y"},"maxConcurrency":1,
                           "minInstances":0,"maxInstances":10,"keepAliveMs":300000,"public":true},
                 "jar":{"sha256":"abc","size":2048},"createdAt":"2026-01-01T00:00:00Z",
                 "versions":[{"version":1,"createdAt":"2025-12-31T00:00:00Z"},{"version":2,"createdAt":"2026-01-01T00:00:00Z"}],
                 "state":{"live":1,"idle":1,"inFlight":0,"queued":0},"url":"/function/hello"}
                """);
        String text = DescribeCommand.text(fn, "http://127.0.0.1:8080");
        assertTrue(text.startsWith("hello  version 2\n"), text);
        assertTrue(text.contains("  url          http://127.0.0.1:8080/function/hello  (public: no token needed)"), text);
        assertTrue(text.contains("  timeout      30s\n"), text);
        assertTrue(text.contains("  keep-alive   5m\n"), text);
        assertTrue(text.contains("  jar          2.0 KiB, sha256 abc\n"), text);
        assertTrue(text.contains("  env          A=1 B=x y\n"), text);
        assertTrue(text.contains("  instances    min 0, max 10\n"), text);
        assertTrue(text.contains("  now          1 live, 1 idle, 0 in flight, 0 queued\n"), text);
        assertTrue(text.contains("  versions     1 (2025-12-31T00:00:00Z), 2 (2026-01-01T00:00:00Z)\n"), text);
    }

    @Test
    void logsSinceTakesATimeOrAnAge() {
        java.time.Instant now = java.time.Instant.parse("2026-11-30T10:00:00Z");
        assertEquals("2026-11-30T09:30:00Z", LogsCommand.sinceTime("30m", now));
        assertEquals("2026-11-30T08:00:00Z", LogsCommand.sinceTime("2h", now));
        assertEquals("2026-11-29T10:00:00Z", LogsCommand.sinceTime("1d", now));
        assertEquals("2026-11-30T09:59:15Z", LogsCommand.sinceTime(" 45s ", now));
        assertEquals("2026-11-21T14:00:00Z", LogsCommand.sinceTime("2026-11-21T14:00:00Z", now));
        CliException e = org.junit.jupiter.api.Assertions.assertThrows(CliException.class,
                () -> LogsCommand.sinceTime("yesterday", now));
        assertEquals(Exit.USAGE, e.exitCode());
        assertTrue(e.getMessage().contains("got \"yesterday\""), e.getMessage());
    }

    @Test
    void logLinesOfANamedNodeSayWhichNode() {
        assertEquals("2026-01-01T00:00:00.001Z  [n2]  00000000000000ab  stdout  greeting Ada",
                LogsCommand.line(Json.parse("{\"node\":\"n2\",\"seq\":1,\"time\":\"2026-01-01T00:00:00.001Z\","
                        + "\"callId\":\"00000000000000ab\",\"stream\":\"stdout\",\"text\":\"greeting Ada\"}")));
        assertEquals("2026-01-01T00:00:00.001Z  00000000000000ab  stdout  greeting Ada",
                LogsCommand.line(Json.parse("{\"node\":\"local\",\"seq\":1,\"time\":\"2026-01-01T00:00:00.001Z\","
                        + "\"callId\":\"00000000000000ab\",\"stream\":\"stdout\",\"text\":\"greeting Ada\"}")));
    }

    @Test
    void logLines() {
        assertEquals("2026-01-01T00:00:00.001Z  00000000000000ab  stdout  greeting Ada",
                LogsCommand.line(Json.parse("{\"seq\":1,\"time\":\"2026-01-01T00:00:00.001Z\",\"callId\":"
                        + "\"00000000000000ab\",\"stream\":\"stdout\",\"text\":\"greeting Ada\"}")));
        assertEquals("2026-01-01T00:00:00.001Z  -                 kiln    started",
                LogsCommand.line(Json.parse("{\"seq\":1,\"time\":\"2026-01-01T00:00:00.001Z\",\"callId\":null,"
                        + "\"stream\":\"kiln\",\"text\":\"started\"}")));
    }

    @Test
    void infoSaysWhetherFunctionsAreIsolated() {
        Settings s = new Settings(URI.create("http://127.0.0.1:8080"), "default", "t", "KILN_TOKEN");
        String process = InfoCommand.text(Json.parse("""
                {"status":"ok","engine":{"name":"process","isolated":false,"reason":"configured: --engine process"},
                 "kvm":{"kind":"SOFTWARE","reason":"kvm_pvm"},"pool":{"budgetMib":4096,"reservedMib":512,"idleMib":256,"liveInstances":2,"queued":0,"inFlight":1},
                 "functions":2}
                """), s);
        assertTrue(process.contains("engine     process — NOT isolated"), process);
        assertTrue(process.contains("why: configured: --engine process"), process);
        assertTrue(process.contains("kvm        SOFTWARE — kvm_pvm"), process);
        assertTrue(process.contains("pool       2 live instances, 1 call in flight, 0 queued; memory 512 MiB reserved, "
                + "256 MiB idle, of 4096 MiB"), process);
        assertEquals("a 1, b.c x", InfoCommand.fields(Json.parse("{\"a\":1,\"b\":{\"c\":\"x\"}}")));
        assertTrue(process.contains("functions  2"), process);
        assertTrue(process.contains("token      from KILN_TOKEN"), process);
        assertFalse(process.contains("jail "), process);
        String qemu = InfoCommand.text(Json.parse("{\"engine\":{\"name\":\"qemu-tcg\",\"isolated\":true},"
                + "\"jail\":{\"enabled\":true,\"mode\":\"auto\",\"cgroup\":\"v1\",\"why\":\"auto: kiln-jailer at /j\"}}"), s);
        assertTrue(qemu.contains("engine     qemu-tcg — isolated"), qemu);
        assertTrue(qemu.contains("jail       on (cgroup v1): each VM's VMM in its function's jail — auto: kiln-jailer at /j\n"), qemu);
        String off = InfoCommand.text(Json.parse("{\"jail\":{\"enabled\":false,\"mode\":\"off\",\"cgroup\":null,"
                + "\"why\":\"configured: off\"}}"), s);
        assertTrue(off.contains("jail       off — configured: off\n"), off);
    }

    @Test
    void infoListsTheClusterNodesWithTheirStateAndLoad() {
        Settings s = new Settings(URI.create("http://127.0.0.1:8080"), "default", "t", "KILN_TOKEN");
        String text = InfoCommand.text(Json.parse("""
                {"status":"ok","engine":{"name":"process","isolated":false},"queue":{"store":"PostgreSQL 15.8"},
                 "node":"b","nodes":[
                  {"node":"a","self":false,"url":"http://10.0.0.1:8080","state":"up","live":true,"engine":"kvm",
                   "heartbeatAgeMs":420,"load":{"callsInFlight":3,"liveInstances":5,"memoryReservedMib":1280,"memoryBudgetMib":4096}},
                  {"node":"b","self":true,"url":"http://10.0.0.2:8080","state":"up","live":true,"engine":"kvm",
                   "heartbeatAgeMs":80,"load":{"callsInFlight":0,"liveInstances":1,"memoryReservedMib":256,"memoryBudgetMib":4096}},
                  {"node":"c","self":false,"url":"http://10.0.0.3:8080","state":"dead","live":false,"engine":"kvm",
                   "heartbeatAgeMs":65000,"load":{"callsInFlight":2,"liveInstances":2,"memoryReservedMib":512,"memoryBudgetMib":4096}}]}
                """), s);
        assertTrue(text.contains("node       b (one of 3 nodes sharing PostgreSQL 15.8)\n"), text);
        assertTrue(text.contains("""
                NODE  STATE                 ENGINE  URL                   HEARTBEAT  LOAD
                a     up                    kvm     http://10.0.0.1:8080  420ms ago  3 in flight, 5 instances, 1280/4096 MiB
                b *   up                    kvm     http://10.0.0.2:8080  80ms ago   0 in flight, 1 instances, 256/4096 MiB
                c     dead (not routed to)  kvm     http://10.0.0.3:8080  65s ago    2 in flight, 2 instances, 512/4096 MiB
                """), text);
        String single = InfoCommand.text(Json.parse("{\"node\":\"local\",\"nodes\":[{\"node\":\"local\"}]}"), s);
        assertTrue(single.contains("node       local (a single node)\n"), single);
        assertFalse(single.contains("NODE"), single);
    }

    @Test
    void uploadProgressIsABarOnATerminalAndOneLineOtherwise() throws Exception {
        byte[] data = new byte[300_000];
        for (boolean tty : new boolean[]{true, false}) {
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            UploadProgress p = new UploadProgress(new java.io.PrintStream(err, true, StandardCharsets.UTF_8), tty,
                    "f.jar", data.length);
            p.start();
            try (java.io.InputStream in = p.wrap(new java.io.ByteArrayInputStream(data))) {
                byte[] buf = new byte[16384];
                while (in.read(buf) >= 0) {
                    Thread.sleep(1);
                }
            }
            p.finish();
            p.finish();
            String text = err.toString(StandardCharsets.UTF_8);
            if (tty) {
                assertTrue(text.startsWith("\rUploading f.jar  [---"), text);
                assertTrue(text.endsWith("] 100%  293.0 KiB of 293.0 KiB\u001b[K\n"), text);
                assertEquals(1, text.chars().filter(c -> c == '\n').count(), "one line, redrawn in place");
            } else {
                assertEquals("Uploading f.jar (293.0 KiB)\n", text);
            }
        }
    }

    @Test
    void uploadBar() {
        assertEquals("Uploading a.jar  [###############---------------]  50%  1.0 KiB of 2.0 KiB",
                UploadProgress.bar(1024, 2048, "a.jar"));
        assertEquals("Uploading a.jar  [##############################] 100%  0 B of 0 B",
                UploadProgress.bar(0, 0, "a.jar"));
    }
}
