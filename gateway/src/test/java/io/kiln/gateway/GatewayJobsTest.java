package io.kiln.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.gateway.testing.TestServer;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batch jobs through the HTTP API on the process engine: JSON Lines and CSV data sets, results
 * and failures in record order, the failure tolerance, cancel, redrive after a fixing redeploy,
 * file inputs confined to the operator's directory, and bad requests.
 */
class GatewayJobsTest {

    private static final Path INPUT = inputDir();
    private static final Path OUTSIDE = INPUT.resolveSibling("jobs-outside");
    private static final TestServer SERVER = TestServer.process("jobs", c -> c.withJobsInputDir(INPUT));
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path inputDir() {
        try {
            Path p = Path.of("target", "jobs-input").toAbsolutePath();
            Files.createDirectories(p.resolve("data"));
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @BeforeAll
    static void deploy() {
        SERVER.ensure("echo", "com.example.Echo", "");
        // Person {name, age} → Greeting {message, adult}: a null record throws (NullPointerException),
        // an age that is not a number is bad input.
        SERVER.ensure("greet", "com.example.Greeter", "maxRetries=0");
    }

    // ---- helpers -------------------------------------------------------------------------

    static String submit(Object body) {
        Response r = SERVER.given().contentType("application/json").body(body).post("/v1/jobs");
        assertEquals(201, r.statusCode(), r::asString);
        String id = r.jsonPath().getString("id");
        assertEquals("/v1/jobs/" + id, r.header("Location"));
        assertEquals("running", r.jsonPath().getString("state"));
        return id;
    }

    /** Polls until nothing of the job runs any more (it ended, and its last calls were recorded). */
    static JsonPath await(String id) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            JsonPath p = SERVER.given().get("/v1/jobs/" + id).then().statusCode(200).extract().jsonPath();
            if (!p.getString("state").equals("running") && p.getLong("inFlight") == 0) {
                return p;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("job " + id + " did not end within 120 s");
    }

    static List<JsonNode> lines(String path) throws IOException {
        Response r = SERVER.given().get(path);
        assertEquals(200, r.statusCode(), r::asString);
        assertEquals("application/x-ndjson", r.contentType());
        List<JsonNode> out = new ArrayList<>();
        for (String line : r.asString().split("\n")) {
            if (!line.isEmpty()) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    static String person(int i) {
        return "{\"name\":\"p" + i + "\",\"age\":" + (10 + i) + "}";
    }

    static void error(Response r, int status, String message) {
        r.then().statusCode(status).body("error.message", equalTo(message));
    }

    // ---- tests ---------------------------------------------------------------------------

    @Test
    void aJsonLinesJobRunsEveryRecordAndListsTheResultsInRecordOrder() throws Exception {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            data.append("{\"i\":").append(i).append(",\"s\":\"record ").append(i).append("\"}\n");
        }
        String id = submit(Map.of("function", "echo", "input", Map.of("jsonl", data.toString()),
                "maxConcurrency", 20));
        JsonPath job = await(id);
        assertEquals("succeeded", job.getString("state"));
        assertEquals(500, job.getInt("total"));
        assertEquals(500, job.getInt("done"));
        assertEquals(0, job.getInt("failed"));
        assertEquals(0, job.getInt("inFlight"));
        assertEquals(0, job.getInt("pending"));
        assertEquals(0, job.getInt("cancelled"));
        assertEquals(0, job.getInt("duplicates"));
        assertEquals(null, job.getString("stopReason"));
        assertEquals(null, job.getString("etaSeconds"));
        assertTrue(job.getDouble("rate") > 0);
        assertEquals("echo", job.getString("function"));
        assertEquals(20, job.getInt("maxConcurrency"));
        assertEquals(0, job.getInt("tolerate.failures"));

        List<JsonNode> results = lines("/v1/jobs/" + id + "/results");
        assertEquals(500, results.size());
        for (int i = 0; i < 500; i++) {
            JsonNode r = results.get(i);
            assertEquals(i, r.get("index").asInt());
            ObjectNode record = JSON.createObjectNode().put("i", i).put("s", "record " + i);
            assertEquals(record, r.get("input"));
            assertEquals(record, r.get("output"));
        }
        assertEquals(List.of(), lines("/v1/jobs/" + id + "/failures"));
        String metrics = SERVER.anonymous().get("/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("\nkiln_jobs_running{node=\"local\"} "), metrics);
        assertTrue(metrics.contains("\nkiln_jobs_records{node=\"local\",state=\"in_flight\"} "), metrics);
        List<String> listed = SERVER.given().get("/v1/jobs").then().statusCode(200).extract().jsonPath()
                .getList("jobs.id");
        assertTrue(listed.contains(id));
    }

    @Test
    void anUploadedDataSetIsCutIntoGroupsOfRecordsPerCall() throws Exception {
        String data = "1\n\"two\"\n{\"three\":3}\n\n[4]\r\nnull\n";
        Response r = SERVER.given().contentType("application/x-ndjson").body(data.getBytes(StandardCharsets.UTF_8))
                .post("/v1/jobs?function=echo&format=jsonl&recordsPerCall=2&maxConcurrency=1&tolerate=1");
        assertEquals(201, r.statusCode(), r::asString);
        String id = r.jsonPath().getString("id");
        JsonPath job = await(id);
        assertEquals("succeeded", job.getString("state"));
        assertEquals(5, job.getInt("total"));
        assertEquals(5, job.getInt("done"));
        assertEquals(2, job.getInt("recordsPerCall"));
        assertEquals(1, job.getInt("tolerate.failures"));
        List<JsonNode> results = lines("/v1/jobs/" + id + "/results");
        assertEquals(List.of(
                JSON.readTree("{\"index\":0,\"firstRecord\":0,\"records\":2,\"input\":[1,\"two\"],\"output\":[1,\"two\"]}"),
                JSON.readTree("{\"index\":1,\"firstRecord\":2,\"records\":2,\"input\":[{\"three\":3},[4]],"
                        + "\"output\":[{\"three\":3},[4]]}"),
                JSON.readTree("{\"index\":2,\"firstRecord\":4,\"records\":1,\"input\":[null],\"output\":[null]}")),
                results);
    }

    @Test
    void aCsvDataSetBecomesOneObjectPerRowWithRfc4180Quoting() throws Exception {
        String csv = "id,name,note\r\n1,Ann,plain\r\n2,\"Smith, Bo\",\"said \"\"hi\"\"\"\r\n3,Cy,\"two\nlines\"\r\n";
        Response r = SERVER.given().contentType("text/csv").body(csv).post("/v1/jobs?function=echo&format=csv");
        assertEquals(201, r.statusCode(), r::asString);
        String id = r.jsonPath().getString("id");
        assertEquals("succeeded", await(id).getString("state"));
        List<JsonNode> results = lines("/v1/jobs/" + id + "/results");
        assertEquals(3, results.size());
        assertEquals(JSON.readTree("{\"id\":\"1\",\"name\":\"Ann\",\"note\":\"plain\"}"), results.get(0).get("output"));
        assertEquals(JSON.readTree("{\"id\":\"2\",\"name\":\"Smith, Bo\",\"note\":\"said \\\"hi\\\"\"}"),
                results.get(1).get("output"));
        assertEquals(JSON.readTree("{\"id\":\"3\",\"name\":\"Cy\",\"note\":\"two\\nlines\"}"),
                results.get(2).get("output"));
        assertEquals(results.get(2).get("input"), results.get(2).get("output"));
    }

    @Test
    void withNoToleranceTheFirstFailureStopsTheJobAndCancelsTheRest() throws Exception {
        List<String> records = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            records.add(i == 5 ? "null" : person(i));
        }
        // One call at a time: records 0-4 are done before 5 runs, and 6-19 never start.
        String id = submit(Map.of("function", "greet", "input", Map.of("jsonl", String.join("\n", records)),
                "maxConcurrency", 1));
        JsonPath job = await(id);
        assertEquals("failed", job.getString("state"));
        assertEquals("stopped: 1 record failed, more than the 0 tolerated", job.getString("stopReason"));
        assertEquals(5, job.getInt("done"));
        assertEquals(1, job.getInt("failed"));
        assertEquals(14, job.getInt("cancelled"));
        assertEquals(0, job.getInt("pending"));
        List<JsonNode> failures = lines("/v1/jobs/" + id + "/failures");
        assertEquals(1, failures.size());
        JsonNode f = failures.get(0);
        assertEquals(5, f.get("index").asInt());
        assertTrue(f.get("input").isNull());
        assertEquals("function_error", f.get("error").get("code").asText());
        assertEquals("java.lang.NullPointerException", f.get("error").get("type").asText());
        assertEquals(1, f.get("attempts").asInt(), "the function's maxRetries=0");
        List<JsonNode> results = lines("/v1/jobs/" + id + "/results");
        assertEquals(5, results.size());
        assertEquals(JSON.readTree("{\"message\":\"Hello, p4\",\"adult\":false}"), results.get(4).get("output"));
    }

    @Test
    void withinItsToleranceAJobCompletesAndItsFailuresListExactlyTheFailedRecords() throws Exception {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            data.append(i % 10 == 3 ? "null" : i % 10 == 7 ? "{\"name\":\"x\",\"age\":\"old\"}" : person(i))
                    .append('\n');
        }
        String id = submit(Map.of("function", "greet", "input", Map.of("jsonl", data.toString()),
                "tolerate", Map.of("failurePercent", 20), "maxConcurrency", 4, "retry", Map.of("maxRetries", 0)));
        JsonPath job = await(id);
        assertEquals("succeeded", job.getString("state"));
        assertEquals(24, job.getInt("done"));
        assertEquals(6, job.getInt("failed"));
        assertEquals(20.0, job.getDouble("tolerate.failurePercent"));
        List<JsonNode> failures = lines("/v1/jobs/" + id + "/failures");
        assertEquals(List.of(3, 7, 13, 17, 23, 27), failures.stream().map(n -> n.get("index").asInt()).toList());
        assertEquals("function_error", failures.get(0).get("error").get("code").asText());
        assertEquals("bad_input", failures.get(1).get("error").get("code").asText());
        assertEquals(JSON.readTree("{\"name\":\"x\",\"age\":\"old\"}"), failures.get(1).get("input"));
        List<JsonNode> results = lines("/v1/jobs/" + id + "/results");
        assertEquals(24, results.size());
        for (JsonNode r : results) {
            int i = r.get("index").asInt();
            assertEquals(JSON.createObjectNode().put("message", "Hello, p" + i).put("adult", 10 + i >= 18),
                    r.get("output"));
        }
    }

    @Test
    void aCancelledJobStopsFeedingAndSaysSo() throws Exception {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            data.append(i).append('\n');
        }
        // One call at a time: 2,000 calls take far longer than the cancel's round trip.
        String id = submit(Map.of("function", "echo", "input", Map.of("jsonl", data.toString()),
                "maxConcurrency", 1));
        JsonPath cancelled = SERVER.given().post("/v1/jobs/" + id + "/cancel").then().statusCode(200).extract()
                .jsonPath();
        assertEquals("cancelled", cancelled.getString("state"));
        assertEquals("cancelled by user", cancelled.getString("stopReason"));
        JsonPath job = await(id);
        assertEquals("cancelled", job.getString("state"));
        assertTrue(job.getInt("cancelled") > 1000, job.prettify());
        assertEquals(2000, job.getInt("done") + job.getInt("failed") + job.getInt("cancelled"));
        assertEquals(0, job.getInt("pending"));
        assertEquals(job.getInt("done"), lines("/v1/jobs/" + id + "/results").size());
        error(SERVER.given().post("/v1/jobs/" + id + "/cancel"), 409,
                "job " + id + " is not running (it is cancelled)");
    }

    @Test
    void failedRecordsAreRedrivenAfterARedeployThatFixesThem() throws Exception {
        assertEquals(2, SERVER.deploy("regrade", "com.example.Greeter", "maxRetries=0").statusCode() / 100);
        SERVER.forget("regrade");
        String data = person(0) + "\n{\"name\":\"x\",\"age\":\"old\"}\n" + person(2) + "\nnull\n";
        String id = submit(Map.of("function", "regrade", "input", Map.of("jsonl", data),
                "tolerate", Map.of("failures", 10)));
        JsonPath job = await(id);
        assertEquals("succeeded", job.getString("state"));
        assertEquals(2, job.getInt("failed"));
        // The fix: the same function, now a handler that takes any JSON.
        assertEquals(2, SERVER.deploy("regrade", "com.example.Echo", "").statusCode() / 100);
        JsonPath redriven = SERVER.given().post("/v1/jobs/" + id + "/redrive").then().statusCode(200).extract()
                .jsonPath();
        assertEquals(2, redriven.getInt("redriven"));
        assertEquals("running", redriven.getString("job.state"));
        job = await(id);
        assertEquals("succeeded", job.getString("state"));
        assertEquals(4, job.getInt("done"));
        assertEquals(0, job.getInt("failed"));
        assertEquals(List.of(), lines("/v1/jobs/" + id + "/failures"));
        List<JsonNode> results = lines("/v1/jobs/" + id + "/results");
        assertEquals(List.of(0, 1, 2, 3), results.stream().map(n -> n.get("index").asInt()).toList());
        assertEquals(JSON.readTree("{\"message\":\"Hello, p0\",\"adult\":false}"), results.get(0).get("output"));
        assertEquals(JSON.readTree("{\"name\":\"x\",\"age\":\"old\"}"), results.get(1).get("output"));
        assertTrue(results.get(3).get("output").isNull());
        assertEquals(0, SERVER.given().post("/v1/jobs/" + id + "/redrive").then().statusCode(200).extract()
                .jsonPath().getInt("redriven"));
    }

    @Test
    void theProgressStreamEndsWithTheJobsEnd() throws Exception {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            data.append(i).append('\n');
        }
        String id = submit(Map.of("function", "echo", "input", Map.of("jsonl", data.toString()),
                "maxConcurrency", 2));
        List<JsonNode> lines = lines("/v1/jobs/" + id + "/progress");
        assertTrue(!lines.isEmpty());
        JsonNode last = lines.get(lines.size() - 1);
        assertEquals("succeeded", last.get("state").asText());
        assertEquals(200, last.get("done").asInt());
        assertEquals(0, last.get("inFlight").asInt());
        long done = -1;
        for (JsonNode l : lines) {
            assertTrue(l.get("done").asLong() >= done, "progress never goes back");
            done = l.get("done").asLong();
        }
        // Watching an ended job answers its one last line.
        List<JsonNode> again = lines("/v1/jobs/" + id + "?watch=true");
        assertEquals(1, again.size());
        assertEquals(200, again.get(0).get("done").asInt());
    }

    @Test
    void aFileUnderTheInputDirectoryIsReadAndNothingOutOfIt() throws Exception {
        Files.writeString(INPUT.resolve("data/people.csv"), "name,age\nAnn,30\nBo,7\n");
        String id = submit(Map.of("function", "echo", "input", Map.of("file", "data/people.csv")));
        assertEquals(2, await(id).getInt("done"));
        assertEquals(JSON.readTree("{\"name\":\"Bo\",\"age\":\"7\"}"),
                lines("/v1/jobs/" + id + "/results").get(1).get("output"));

        Files.createDirectories(OUTSIDE);
        Files.writeString(OUTSIDE.resolve("secret.jsonl"), "1\n");
        Path link = INPUT.resolve("data/link.jsonl");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, OUTSIDE.resolve("secret.jsonl"));
        error(post(Map.of("function", "echo", "input", Map.of("file", "../jobs-outside/secret.jsonl"))), 400,
                "input.file \"../jobs-outside/secret.jsonl\" leads out of the jobs input directory");
        error(post(Map.of("function", "echo", "input", Map.of("file", "data/link.jsonl"))), 400,
                "input.file \"data/link.jsonl\" is a link to a file out of the jobs input directory");
        error(post(Map.of("function", "echo", "input", Map.of("file", OUTSIDE.resolve("secret.jsonl").toString()))),
                400, "input.file must be a path relative to the jobs input directory, got \""
                        + OUTSIDE.resolve("secret.jsonl") + "\"");
        error(post(Map.of("function", "echo", "input", Map.of("file", "data/none.jsonl"))), 400,
                "no input file \"data/none.jsonl\" in the jobs input directory");
        error(post(Map.of("function", "echo", "input", Map.of("file", "data/people.txt"))), 400,
                "cannot tell the format of \"data/people.txt\" by its name: give input.format (jsonl or csv),"
                        + " or name it .jsonl, .ndjson or .csv");
    }

    static Response post(Object body) {
        return SERVER.given().contentType("application/json").body(body).post("/v1/jobs");
    }

    @Test
    void badRequestsAreRefusedWithWhatIsWrong() {
        error(post(Map.of("input", Map.of("jsonl", "1"))), 400, "function is required");
        error(post(Map.of("function", "nope", "input", Map.of("jsonl", "1"))), 404, "no function nope");
        error(post(Map.of("function", "echo")), 400,
                "input is required: {\"jsonl\": \"...\"}, {\"csv\": \"...\"} or {\"file\": \"relative/path\"}");
        error(post(Map.of("function", "echo", "input", Map.of("jsonl", "1", "csv", "a"))), 400,
                "input must have exactly one of jsonl, csv or file");
        error(post(Map.of("function", "echo", "input", Map.of("jsonl", "1\n{\"a\":\n3"))), 400,
                "line 2 of the JSON Lines data set is not valid JSON");
        error(post(Map.of("function", "echo", "input", Map.of("jsonl", "1 2"))), 400,
                "line 1 of the JSON Lines data set is not valid JSON");
        error(post(Map.of("function", "echo", "input", Map.of("jsonl", "\n\n"))), 400, "the data set has no records");
        error(post(Map.of("function", "echo", "input", Map.of("csv", "a,b\n1,2\n3\n"))), 400,
                "CSV line 3 has 1 fields; the header has 2");
        error(post(Map.of("function", "echo", "input", Map.of("csv", "a,b\n1,\"2\n"))), 400,
                "CSV line 2: a quoted field is not closed");
        error(post(Map.of("function", "echo", "input", Map.of("csv", "a,b\n1,x\"y\n"))), 400,
                "CSV line 2: a quote inside an unquoted field (quote the whole field and double the quote)");
        error(post(Map.of("function", "echo", "input", Map.of("csv", "a,a\n1,2\n"))), 400,
                "the CSV header names column \"a\" twice");
        error(post(Map.of("function", "echo", "input", Map.of("jsonl", "1"), "recordsPerCall", 0)), 400,
                "recordsPerCall must be between 1 and 10000, got 0");
        error(post(Map.of("function", "echo", "input", Map.of("jsonl", "1"), "maxConcurrency", 1001)), 400,
                "maxConcurrency must be between 1 and 1000, got 1001");
        error(post(Map.of("function", "echo", "input", Map.of("jsonl", "1"), "tolerate", Map.of("failures", -1))),
                400, "a tolerated failure count is 0 or more, got -1");
        error(post(Map.of("function", "echo", "input", Map.of("jsonl", "1"), "tolerate", 5)), 400,
                "tolerate must be {\"failures\": N} or {\"failurePercent\": P}");
        error(post(Map.of("function", "echo", "input", Map.of("jsonl", "1"), "retry", Map.of("maxRetries", 101))),
                400, "maxRetries must be between 0 and 100, got 101");
        error(post(Map.of("function", "echo", "input", Map.of("jsonl", "1"), "colour", "red")), 400,
                "unknown field colour; a job has function, input, recordsPerCall, maxConcurrency, tolerate, retry");
        error(SERVER.given().body("1\n").post("/v1/jobs?function=echo"), 400,
                "format is required with an uploaded data set: jsonl or csv");
        error(SERVER.given().body("1\n").post("/v1/jobs?function=echo&format=xml"), 400,
                "format must be jsonl or csv, got \"xml\"");
        error(SERVER.given().body("1\n").post("/v1/jobs?function=echo&format=jsonl&tolerate=lots"), 400,
                "tolerate must be a count like 10 or a percentage like 5%, got \"lots\"");
        error(SERVER.given().contentType("application/json").body("[1]").post("/v1/jobs"), 400,
                "the body must be a JSON object like {\"function\": \"f\", \"input\": {\"jsonl\": \"...\"}}");
        error(SERVER.given().get("/v1/jobs/xyz"), 400, "a job id is 16 hex digits, got \"xyz\"");
        error(SERVER.given().get("/v1/jobs/00000000000000aa"), 404, "no job 00000000000000aa");
        error(SERVER.given().get("/v1/jobs/00000000000000aa/results"), 404, "no job 00000000000000aa");
        error(SERVER.given().post("/v1/jobs/00000000000000aa/cancel"), 404, "no job 00000000000000aa");
        SERVER.anonymous().get("/v1/jobs").then().statusCode(401);
    }
}
