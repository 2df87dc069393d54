package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every example as its README says: deployed with {@code bin/kiln deploy} (the very lines of
 * the READMEs), called with {@code bin/kiln invoke} or over HTTP, on the real engine (the one
 * the host probe picks: QEMU TCG on a machine without hardware KVM), outputs checked exactly.
 *
 * <p>{@code -Dkiln.test.engine} asks the gateway for another engine, and
 * {@code -Dkiln.test.examples=hello,...} deploys only those examples (by directory): the lab
 * (lab/run-kvm-tests.sh) runs {@code hello} on the Java engine this way, with
 * {@code kiln.test.slowdown} stretching the restore deadline as the invoker's tests do.
 */
class ExamplesEndToEndIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ENGINE = System.getProperty("kiln.test.engine", "auto");
    private static final long SLOWDOWN = Long.getLong("kiln.test.slowdown", 1);
    /** The example directories to deploy; empty: all of them. */
    private static final List<String> EXAMPLES = Arrays.stream(System.getProperty("kiln.test.examples", "")
            .split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();

    private static Path repo;
    private static Path work;
    private static GatewayProcess gateway;
    private static Map<String, String> env;

    @BeforeAll
    static void deployEveryExample() throws Exception {
        repo = Path.of(System.getProperty("kiln.repo")).toRealPath();
        work = Files.createDirectories(Path.of(System.getProperty("kiln.test.work"))
                .resolve("examples-e2e-" + ProcessHandle.current().pid()));
        gateway = GatewayProcess.start(work, ENGINE, Duration.ofMinutes(2 * SLOWDOWN),
                "--restore-timeout-s", Long.toString(10 * SLOWDOWN));
        env = Map.of("KILN_URL", gateway.url, "KILN_DATA", gateway.dataDir.toString(),
                "HOME", work.resolve("home").toString());
        List<String> deploys = readmeDeploys();
        if (EXAMPLES.isEmpty()) {
            assertEquals(13, deploys.size(), "kiln deploy lines in the examples' READMEs: " + deploys);
        } else {
            assertFalse(deploys.isEmpty(), "no kiln deploy line in the READMEs of " + EXAMPLES);
        }
        for (String line : deploys) {
            List<String> args = List.of(line.strip().split("\\s+"));
            KilnProcess r = kiln(null, args.subList(1, args.size()).toArray(String[]::new));
            assertEquals(0, r.exit(), line + "\n" + r);
            // The process engine (-Dkiln.test.engine=process, for a quick run) takes no snapshot.
            assertTrue(ENGINE.equals("process") || r.err().contains("taking the function snapshot"),
                    "deploy progress: " + r.err());
            assertTrue(r.out().startsWith("Deployed " + args.get(2) + " version 1"), r.toString());
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) {
            gateway.stop();
        }
    }

    /** The {@code kiln deploy} commands of every example README, continuation lines joined. */
    private static List<String> readmeDeploys() throws Exception {
        try (var dirs = Files.list(repo.resolve("examples"))) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("README.md"))).sorted()
                    .filter(d -> EXAMPLES.isEmpty() || EXAMPLES.contains(d.getFileName().toString()))
                    .flatMap(d -> {
                        try {
                            return Files.readString(d.resolve("README.md")).replace("\\\n", " ").lines();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    })
                    .filter(l -> l.strip().startsWith("kiln deploy "))
                    .toList();
        }
    }

    /** bin/kiln from the repository root, as the READMEs run it. */
    private static KilnProcess kiln(byte[] stdin, String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = repo.resolve("bin/kiln").toString();
        System.arraycopy(args, 0, cmd, 1, args.length);
        return KilnProcess.run(work, repo, env, stdin, cmd);
    }

    private static String ok(KilnProcess r) {
        assertEquals(0, r.exit(), r.toString());
        return r.out();
    }

    /** Skips the test of an example this run did not deploy ({@code kiln.test.examples}). */
    private static void deployed(String example) {
        assumeTrue(EXAMPLES.isEmpty() || EXAMPLES.contains(example), example + " is not in kiln.test.examples");
    }

    @Test
    void hello() throws Exception {
        deployed("hello");
        assertEquals("Hello, Ada!", ok(kiln(null, "invoke", "hello", "--data", "Ada")));
        if (!ENGINE.equals("auto")) {
            JsonNode info = JSON.readTree(ok(kiln(null, "info", "-o", "json")));
            assertEquals(ENGINE, info.get("engine").get("name").asText(), "the engine that answered");
        }
    }

    @Test
    void jsonTransform() throws Exception {
        deployed("json-transform");
        String order = """
                {"id":"A-1001","customer":"Ada Lovelace","placed":"2026-10-22",
                 "lines":[{"sku":"PEN-01","quantity":3,"unitPrice":2.50},
                          {"sku":"NB-A5","quantity":2,"unitPrice":7.25},
                          {"sku":"INK-B","quantity":1,"unitPrice":12.00}],
                 "tags":["priority","gift"]}""";
        assertEquals("{\"orderId\":\"A-1001\",\"customer\":\"Ada Lovelace\","
                + "\"placed\":\"2026-10-22\",\"due\":\"2026-11-21\",\"lines\":["
                + "{\"sku\":\"PEN-01\",\"quantity\":3,\"unitPrice\":2.50,\"total\":7.50},"
                + "{\"sku\":\"NB-A5\",\"quantity\":2,\"unitPrice\":7.25,\"total\":14.50},"
                + "{\"sku\":\"INK-B\",\"quantity\":1,\"unitPrice\":12.00,\"total\":12.00}],"
                + "\"itemCount\":6,\"total\":34.00,\"tags\":[\"priority\",\"gift\"]}",
                ok(kiln(null, "invoke", "json-transform", "--data", order)));
    }

    @Test
    void httpEcho() throws Exception {
        deployed("http-echo");
        // The README's own curl line (curl keeps repeated headers apart; so does the gateway).
        KilnProcess curl = KilnProcess.run(work, repo, env, null, "curl", "-s", "-w", "\\n%{http_code} %{content_type}\\n",
                gateway.url + "/function/http-echo/orders/7?status=201&q=a%20b", "-H", "X-Multi: 1", "-H", "X-Multi: 2",
                "-H", "Authorization: Bearer " + gateway.token);
        List<String> lines = curl.out().lines().toList();
        assertEquals("201 application/json", lines.get(1), curl.toString());
        JsonNode echo = JSON.readTree(lines.get(0));
        assertEquals("GET", echo.get("method").asText());
        assertEquals("/orders/7", echo.get("path").asText());
        assertEquals("status=201&q=a%20b", echo.get("query").asText());
        assertEquals("[\"1\",\"2\"]", String.valueOf(echo.get("headers").get("X-Multi")), lines.get(0));

        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<byte[]> binary = http.send(HttpRequest.newBuilder(URI.create(gateway.url
                        + "/function/http-echo/binary")).header("Authorization", "Bearer " + gateway.token).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        assertArrayEquals(all, binary.body());

        JsonNode viaCli = JSON.readTree(ok(kiln(null, "invoke", "http-echo", "--data", "hi")));
        assertEquals("POST", viaCli.get("method").asText());
        assertEquals("/", viaCli.get("path").asText());
    }

    @Test
    void thumbnail() throws Exception {
        deployed("thumbnail");
        BufferedImage photo = new BufferedImage(640, 480, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = photo.createGraphics();
        g.setColor(Color.ORANGE);
        g.fillRect(0, 0, 640, 480);
        g.dispose();
        Path file = work.resolve("photo.jpg");
        ImageIO.write(photo, "jpg", file.toFile());
        KilnProcess r = kiln(null, "invoke", "thumbnail", "--file", file.toString());
        assertEquals(0, r.exit(), r.toString());
        BufferedImage thumb = ImageIO.read(new ByteArrayInputStream(r.stdout()));
        assertEquals(List.of(128, 96), List.of(thumb.getWidth(), thumb.getHeight()));
        assertArrayEquals(new byte[]{(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(r.stdout(), 4));
    }

    @Test
    void lambdaCompat() throws Exception {
        deployed("lambda-compat");
        JsonNode greeting = JSON.readTree(ok(kiln(null, "invoke", "lambda-greeting", "--data", "{\"name\":\"Ada\"}")));
        assertEquals("Hello, Ada!", greeting.get("greeting").asText());
        assertEquals("lambda-greeting", greeting.get("function").asText());
        assertEquals("HELLO, LAMBDA", ok(kiln(null, "invoke", "lambda-upper", "--data", "hello, lambda")));
        assertTrue(ok(kiln(null, "logs", "lambda-greeting")).contains("greeting Ada"));

        // The README's SQS batch and API Gateway calls.
        assertEquals("{\"batchItemFailures\":[{\"itemIdentifier\":\"2e1424d4-f796-459a-8184-9c92662be6da\"}]}",
                ok(kiln(null, "invoke", "lambda-order-queue", "--file", "examples/lambda-compat/events/sqs.json")));
        KilnProcess curl = KilnProcess.run(work, repo, env, null, "curl", "-s", "-X", "POST",
                gateway.url + "/function/lambda-orders/orders/7?q=abc", "-H", "Authorization: Bearer " + gateway.token,
                "-d", "hi");
        JsonNode order = JSON.readTree(curl.out());
        assertEquals("7", order.get("order").asText(), curl.toString());
        assertEquals("POST", order.get("method").asText());
        assertEquals("abc", order.get("q").asText());
        assertEquals("hi", order.get("body").asText());
        assertTrue(order.get("requestId").asText().matches("[0-9a-f]{16}"), curl.toString());
    }

    @Test
    void restoreHooks() throws Exception {
        deployed("restore-hooks");
        JsonNode first = JSON.readTree(ok(kiln(null, "invoke", "restore-hooks", "--data", "ada")));
        assertEquals("ada", first.get("user").asText());
        assertEquals("connection #2", first.get("connection").asText());
        assertEquals(1, first.get("beforeSnapshot").asInt());
        assertEquals(1, first.get("afterRestore").asInt());
        JsonNode again = JSON.readTree(ok(kiln(null, "invoke", "restore-hooks", "--data", "ada")));
        assertEquals(first.get("instance"), again.get("instance"), "the warm instance again");
        assertNotEquals(first.get("token"), again.get("token"));
    }

    @Test
    void scheduled() throws Exception {
        deployed("scheduled");
        // The README's schedule line, twice: a create, then a replace that changes nothing.
        String[] add = {"schedule", "add", "heartbeat", "--function", "heartbeat", "--cron", "*/5 * * * *", "--zone",
                "Europe/Berlin", "--shape", "eventbridge"};
        String created = ok(kiln(null, add));
        assertTrue(created.startsWith("Created schedule heartbeat: cron \"*/5 * * * *\" in Europe/Berlin → heartbeat;"
                + " next fire time "), created);
        String next = created.substring(created.lastIndexOf(' ') + 1).strip();
        assertEquals("Replaced schedule heartbeat: cron \"*/5 * * * *\" in Europe/Berlin → heartbeat; next fire time "
                + next + "\n", ok(kiln(null, add)));
        assertTrue(ok(kiln(null, "schedule", "ls")).lines().anyMatch(l -> l.startsWith("heartbeat ")));
        // The handler, fed the event such a schedule sends for a fire time (no waiting for one).
        JsonNode report = JSON.readTree(ok(kiln(null, "invoke", "heartbeat", "--data", "{\"version\":\"0\","
                + "\"id\":\"6a7e8feb-b491-4cf7-a9f1-bf3703467718\",\"detail-type\":\"Scheduled Event\","
                + "\"source\":\"aws.events\",\"account\":\"000000000000\",\"time\":\"2026-12-01T09:05:00Z\","
                + "\"region\":\"kiln\",\"resources\":[\"kiln:schedule/heartbeat\"],\"detail\":{}}")));
        assertEquals("kiln:schedule/heartbeat", report.get("schedule").asText());
        assertEquals("2026-12-01T09:05:00Z", report.get("fireTime").asText());
        assertEquals("2026-12-01T09:05Z", report.get("localFireTime").asText());
        assertEquals("6a7e8feb-b491-4cf7-a9f1-bf3703467718", report.get("eventId").asText());
        assertEquals("Deleted schedule heartbeat\n", ok(kiln(null, "schedule", "rm", "heartbeat")));
    }

    @Test
    void topicFanout() throws Exception {
        deployed("topic-fanout");
        // The README's lines, in order.
        assertEquals("Created subscription ledger of topic orders: function order-ledger, every event, plain\n",
                ok(kiln(null, "topic", "subscribe", "orders", "ledger", "--function", "order-ledger")));
        assertEquals("Created subscription refunds of topic orders: function refund-issuer, type=order.cancelled,"
                + " plain\n", ok(kiln(null, "topic", "subscribe", "orders", "refunds", "--function", "refund-issuer",
                "--filter", "type=order.cancelled")));
        JsonNode created = JSON.readTree(ok(kiln(null, "-o", "json", "topic", "publish", "orders", "--type",
                "order.created", "--source", "/shop", "--id", "o-1", "--subject", "eu/A-1001", "--data",
                "{\"orderId\":\"A-1001\",\"customer\":\"Ada Lovelace\",\"total\":34.00,\"currency\":\"EUR\"}")));
        assertEquals(1, created.get("deliveries").asInt(), created::toString);
        String cancelled = ok(kiln(null, "topic", "publish", "orders", "--type", "order.cancelled", "--source",
                "/shop", "--id", "o-2", "--subject", "eu/A-1001", "--data", "{\"orderId\":\"A-1001\",\"customer\":"
                        + "\"Ada Lovelace\",\"total\":34.00,\"currency\":\"EUR\",\"reason\":\"changed my mind\"}"));
        assertTrue(cancelled.matches("Published o-2 to orders: 2 deliveries \\(calls [0-9a-f]{16}, [0-9a-f]{16}\\)\n"),
                cancelled);
        assertEquals("TOPIC   SUBSCRIPTION  FUNCTION       FILTER                SHAPE\n"
                + "orders  ledger        order-ledger   every event           plain\n"
                + "orders  refunds       refund-issuer  type=order.cancelled  plain\n", ok(kiln(null, "topic", "ls")));
        String calls = cancelled.substring(cancelled.indexOf("calls ") + 6, cancelled.indexOf(')'));
        List<String> results = new java.util.ArrayList<>();
        for (String id : calls.split(", ")) {
            results.add(awaitResult(id));
        }
        assertTrue(results.contains("{\"eventId\":\"o-2\",\"type\":\"order.cancelled\",\"orderId\":\"A-1001\","
                + "\"amount\":-34.00,\"currency\":\"EUR\"}"), results.toString());
        assertTrue(results.contains("{\"refundId\":\"refund-o-2\",\"orderId\":\"A-1001\",\"customer\":"
                + "\"Ada Lovelace\",\"amount\":34.00,\"currency\":\"EUR\",\"reason\":\"changed my mind\"}"),
                results.toString());
        assertTrue(ok(kiln(null, "logs", "order-ledger")).contains("ledger o-1 order.created A-1001 +34.00 EUR"));
        assertTrue(ok(kiln(null, "logs", "refund-issuer")).contains(
                "refund refund-o-2 of 34.00 EUR to Ada Lovelace for A-1001"));
    }

    /** The body of a queued call's result, once it succeeded (bounded wait). */
    private static String awaitResult(String callId) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(SLOWDOWN).toNanos();
        while (System.nanoTime() < deadline) {
            KilnProcess curl = KilnProcess.run(work, repo, env, null, "curl", "-s", gateway.url + "/v1/calls/" + callId,
                    "-H", "Authorization: Bearer " + gateway.token);
            JsonNode call = JSON.readTree(curl.out());
            String state = call.path("state").asText();
            if (state.equals("succeeded")) {
                return new String(java.util.Base64.getDecoder().decode(call.get("result").get("bodyBase64").asText()),
                        java.nio.charset.StandardCharsets.UTF_8);
            }
            assertTrue(!state.equals("failed"), call::toString);
            Thread.sleep(50);
        }
        throw new AssertionError("call " + callId + " did not succeed in time");
    }
}
