package io.kiln.cli;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kiln topic}: the requests it sends (to a recording HTTP server that answers as the
 * gateway does) and what it prints.
 */
class TopicCommandTest {

    @TempDir
    Path home;

    record Seen(String method, String path, Map<String, String> headers, String body) {
    }

    final List<Seen> seen = new CopyOnWriteArrayList<>();
    HttpServer server;
    volatile int status = 202;
    volatile String answer = "{}";

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            Map<String, String> h = new TreeMap<>();
            ex.getRequestHeaders().forEach((k, v) -> h.put(k.toLowerCase(java.util.Locale.ROOT), v.get(0)));
            seen.add(new Seen(ex.getRequestMethod(), ex.getRequestURI().getRawPath(), h,
                    new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
            byte[] out = answer.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(status, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    TestCli.Result run(String... args) {
        return new TestCli(home.resolve("home")).env("KILN_URL", "http://127.0.0.1:" + server.getAddress().getPort())
                .env("KILN_TOKEN", "secret").run(args);
    }

    @Test
    void publishSendsAStructuredEventAndPrintsItsDeliveries() {
        answer = "{\"topic\":\"orders\",\"eventId\":\"o-1\",\"deliveries\":2,\"callIds\":[\"00000000000000aa\","
                + "\"00000000000000bb\"]}";
        TestCli.Result r = run("topic", "publish", "orders", "--type", "order.created", "--source", "/shop",
                "--id", "o-1", "--subject", "eu/1", "--ext", "region=eu", "--data", "{\"id\": 7, \"total\": 34.00}");
        assertEquals(0, r.exit(), r.toString());
        assertEquals("Published o-1 to orders: 2 deliveries (calls 00000000000000aa, 00000000000000bb)\n", r.out());
        Seen s = seen.get(0);
        assertEquals("POST /v1/topics/orders", s.method() + " " + s.path());
        assertEquals("application/cloudevents+json", s.headers().get("content-type"));
        assertEquals("Bearer secret", s.headers().get("authorization"));
        assertEquals("{\"specversion\":\"1.0\",\"id\":\"o-1\",\"source\":\"/shop\",\"type\":\"order.created\","
                + "\"subject\":\"eu/1\",\"region\":\"eu\",\"datacontenttype\":\"application/json\",\"data\":{\"id\": 7, \"total\": 34.00}}",
                s.body());
    }

    @Test
    void publishInBinaryModeSendsCeHeadersAndTheDataAsTheBody() throws Exception {
        answer = "{\"topic\":\"notes\",\"eventId\":\"n 1\",\"deliveries\":0,\"callIds\":[]}";
        Path f = home.resolve("note.txt");
        Files.writeString(f, "hi €");
        TestCli.Result r = run("topic", "publish", "notes", "--type", "note", "--source", "/cli", "--id", "n 1",
                "--subject", "ünï", "--content-type", "text/plain", "--data-file", f.toString(), "--binary");
        assertEquals(0, r.exit(), r.toString());
        assertEquals("Published n 1 to notes: 0 deliveries (no subscription matched)\n", r.out());
        Seen s = seen.get(0);
        assertEquals("1.0", s.headers().get("ce-specversion"));
        assertEquals("n%201", s.headers().get("ce-id"));
        assertEquals("%C3%BCn%C3%AF", s.headers().get("ce-subject"));
        assertEquals("note", s.headers().get("ce-type"));
        assertEquals("text/plain", s.headers().get("content-type"));
        assertEquals("hi €", s.body());

        TestCli.Result json = run("-o", "json", "topic", "publish", "notes", "--type", "t", "--source", "/s");
        assertEquals("{\n  \"topic\" : \"notes\",\n  \"eventId\" : \"n 1\",\n  \"deliveries\" : 0,\n"
                + "  \"callIds\" : [ ]\n}\n", json.out());
    }

    @Test
    void publishRefusesDataThatIsNotItsContentType() {
        TestCli.Result r = run("topic", "publish", "t", "--type", "x", "--source", "/s", "--data", "{oops");
        assertEquals(Exit.USAGE, r.exit(), r.toString());
        assertTrue(r.stderr().contains("The data is not JSON, but its content type is application/json; pass"
                + " --content-type for other data."), r.stderr());
        assertEquals(List.of(), seen);
    }

    @Test
    void subscribeSendsFiltersAndShape() {
        status = 201;
        answer = "{\"topic\":\"orders\",\"name\":\"refunds\",\"function\":\"refunds\",\"filters\":{\"type\":"
                + "\"order.cancelled\",\"subject\":{\"prefix\":\"eu/\"}},\"shape\":\"sqs\",\"batchSize\":5,"
                + "\"batchWindow\":\"2000ms\"}";
        TestCli.Result r = run("topic", "subscribe", "orders", "refunds", "--function", "refunds", "--filter",
                "type=order.cancelled", "--filter", "subject^=eu/", "--shape", "sqs", "--batch-size", "5",
                "--batch-window", "2s");
        assertEquals(0, r.exit(), r.toString());
        assertEquals("Created subscription refunds of topic orders: function refunds, type=order.cancelled"
                + " subject^=eu/, sqs (batches of up to 5, window 2000ms)\n", r.out());
        Seen s = seen.get(0);
        assertEquals("PUT /v1/topics/orders/subscriptions/refunds", s.method() + " " + s.path());
        assertEquals("{\"function\":\"refunds\",\"filters\":{\"type\":\"order.cancelled\",\"subject\":{\"prefix\":"
                + "\"eu/\"}},\"shape\":\"sqs\",\"batchSize\":5,\"batchWindow\":\"2s\"}", s.body());

        status = 200;
        answer = "{\"topic\":\"orders\",\"name\":\"all\",\"function\":\"audit\",\"filters\":{},\"shape\":\"plain\"}";
        assertEquals("Replaced subscription all of topic orders: function audit, every event, plain\n",
                run("topic", "subscribe", "orders", "all", "--function", "audit").out());

        TestCli.Result bad = run("topic", "subscribe", "orders", "x", "--function", "f", "--filter", "type");
        assertEquals(Exit.USAGE, bad.exit());
        assertTrue(bad.stderr().contains("--filter must be ATTR=VALUE or ATTR^=PREFIX, got 'type'"), bad.stderr());
    }

    @Test
    void lsPrintsOneRowPerSubscription() {
        status = 200;
        answer = "{\"topics\":[{\"topic\":\"orders\",\"subscriptions\":[{\"name\":\"all\",\"function\":\"audit\","
                + "\"filters\":{},\"shape\":\"plain\"},{\"name\":\"q\",\"function\":\"h\",\"filters\":{\"type\":"
                + "\"a\"},\"shape\":\"sqs\",\"batchSize\":10}]}]}";
        TestCli.Result r = run("topic", "ls");
        assertEquals(0, r.exit(), r.toString());
        assertEquals(Format.table(List.of("TOPIC", "SUBSCRIPTION", "FUNCTION", "FILTER", "SHAPE"),
                List.of(List.of("orders", "all", "audit", "every event", "plain"),
                        List.of("orders", "q", "h", "type=a", "sqs/10"))), r.out());
        answer = "{\"topics\":[]}";
        assertEquals("No subscriptions. Add one with: kiln topic subscribe TOPIC NAME --function FUNCTION\n",
                run("topic", "ls").out());
    }
}
