package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code kiln invoke NAME [--data S | --file F | stdin] [--async [--wait] [--idempotency-key K]] [-v]}. */
@Command(name = "invoke", sortOptions = false, usageHelpAutoWidth = true,
        header = "Call a function and print its answer.",
        description = {
            "The body is --data (the string as it is), --file (the file's bytes), else standard input when it is "
                    + "not a terminal, else empty. The answer's body goes to stdout as raw bytes (binary-safe); on a "
                    + "terminal a text answer gets a closing newline if it has none.",
            "An answer with HTTP status 400 or more exits with 1; a Kiln error (the call could not run) is "
                    + "explained on stderr.",
            "--async queues the call and prints its id and status URL; --wait (implies --async) then polls "
                    + "until it is done, through the function's retries, and prints the result like a sync call, "
                    + "or the error and the number of attempts. --idempotency-key makes a repeated submit name the "
                    + "first call instead of queuing another.",
            "--output json prints {\"status\",\"headers\",\"callId\",\"body\" (text) or \"bodyBase64\"}.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  kiln invoke hello --data 'Ada'",
            "  kiln invoke greeter --data '{\"name\":\"Ada\",\"age\":36}'",
            "  kiln invoke thumbnail --file cat.jpg > thumb.png",
            "  echo '{\"name\":\"Ada\"}' | kiln invoke greeter",
            "  kiln invoke api --method GET --path '/items/42?full=true' \\",
            "      -H 'Accept: application/json' -v",
            "  kiln invoke report --data '{}' --async --wait",
            "  kiln invoke charge --data '{\"order\":42}' --async --idempotency-key order-42",
        })
final class InvokeCommand implements Callable<Integer> {

    @picocli.CommandLine.Mixin
    HelpOption help;

    @ParentCommand
    Kiln kiln;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The function to call.")
    String name;

    @ArgGroup(exclusive = true)
    Input input;

    static final class Input {
        @Option(names = {"-d", "--data"}, paramLabel = "STRING", required = true,
                description = "The request body, as it is (UTF-8).")
        String data;

        @Option(names = {"-f", "--file"}, paramLabel = "FILE", required = true,
                description = "A file whose bytes are the request body.")
        String file;
    }

    @Option(names = {"-X", "--method"}, paramLabel = "METHOD", description = "The HTTP method (default POST).")
    String method;

    @Option(names = "--path", paramLabel = "PATH",
            description = "A path (and query) below the function's URL, like /items/42?full=true.")
    String path;

    @Option(names = {"-H", "--header"}, paramLabel = "'NAME: VALUE'", description = "A request header (repeatable).")
    List<String> headers = new ArrayList<>();

    @Option(names = "--content-type", paramLabel = "TYPE",
            description = "The body's Content-Type (default: application/json for --data that is JSON, text/plain "
                    + "for other --data, application/octet-stream for a file or stdin).")
    String contentType;

    @Option(names = "--async", description = "Queue the call; print its id and status URL.")
    boolean async;

    @Option(names = "--wait", description = "With --async (implied): wait for the result and print it.")
    boolean await;

    @Option(names = "--idempotency-key", paramLabel = "KEY",
            description = "With --async: the server queues one call per KEY (1 to 255 visible ASCII characters); "
                    + "a repeat answers with the first call and says it was a replay.")
    String idempotencyKey;

    @Option(names = {"-v", "--verbose"}, description = "Print the status and headers (call id, cold or warm start, "
            + "timings) to stderr.")
    boolean verbose;

    @Option(names = "--local", description = "No server: run the function from --project or --jar in an agent "
            + "process on this machine (NOT isolated: no VM; for development). Needs --handler.")
    boolean local;

    @Option(names = "--project", paramLabel = "DIR", description = "With --local: the Maven project to build and run.")
    String project;

    @Option(names = "--jar", paramLabel = "FILE", description = "With --local: the jar to run.")
    String jar;

    @Option(names = "--handler", paramLabel = "CLASS", description = "With --local: the handler, as for kiln deploy.")
    String handler;

    @Option(names = "--env", paramLabel = "K=V", description = "With --local: an environment entry (repeatable).")
    List<String> env = new ArrayList<>();

    /** The request body: bytes, or a file read when it is sent; and its default content type. */
    private record Body(byte[] bytes, Path file, String contentType) {
        /** No body at all: nothing given, stdin a terminal. */
        static final Body NONE = new Body(null, null, null);

        HttpRequest.BodyPublisher publisher() {
            if (file == null && bytes == null) {
                return HttpRequest.BodyPublishers.noBody();
            }
            try {
                return file != null ? HttpRequest.BodyPublishers.ofFile(file) : HttpRequest.BodyPublishers.ofByteArray(bytes);
            } catch (FileNotFoundException ex) {
                throw new CliException(Exit.USAGE, "There is no file " + file + " to send.");
            }
        }

        byte[] read() {
            try {
                return file != null ? Files.readAllBytes(file) : bytes != null ? bytes : new byte[0];
            } catch (IOException ex) {
                throw new CliException(Exit.USAGE, "Cannot read " + file + ": " + ex.getMessage());
            }
        }
    }

    @Override
    public Integer call() {
        boolean queue = async || await;
        if (queue && method != null && !method.equalsIgnoreCase("POST")) {
            throw Kiln.usage(spec, "--async calls are POST; --method " + method + " works only for sync calls");
        }
        if (queue && path != null) {
            throw Kiln.usage(spec, "--path works only for sync calls");
        }
        if (idempotencyKey != null && !queue) {
            throw Kiln.usage(spec, "--idempotency-key works only with --async (or --wait)");
        }
        if (idempotencyKey != null && (idempotencyKey.isEmpty() || idempotencyKey.length() > 255
                || !idempotencyKey.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f))) {
            throw Kiln.usage(spec, "--idempotency-key takes 1 to 255 visible ASCII characters (no spaces), got '"
                    + idempotencyKey + "'");
        }
        if (method != null && !method.matches("[A-Za-z]+")) {
            throw Kiln.usage(spec, "--method takes an HTTP method like GET or POST, got '" + method + "'");
        }
        Body body = body();
        if (local || project != null || jar != null || handler != null || !env.isEmpty()) {
            return local(body, queue);
        }
        HttpRequest.Builder b = kiln.client().request(queue ? "/async-function/" + KilnClient.segment(name)
                : "/function/" + KilnClient.segment(name) + subPath());
        for (Map.Entry<String, String> h : requestHeaders(body)) {
            try {
                b.header(h.getKey(), h.getValue());
            } catch (IllegalArgumentException e) {
                throw Kiln.usage(spec, "-H '" + h.getKey() + ": " + h.getValue() + "': " + e.getMessage());
            }
        }
        if (idempotencyKey != null) {
            b.header("Idempotency-Key", idempotencyKey);
        }
        String m = method == null ? "POST" : method.toUpperCase(Locale.ROOT);
        HttpRequest request = b.method(m, body.publisher()).build();
        if (verbose) {
            kiln.env().err().println("> " + m + " " + request.uri());
        }
        HttpResponse<byte[]> r = kiln.client().send(request, HttpResponse.BodyHandlers.ofByteArray());
        CallReply reply = CallReply.of(r.statusCode(), r.headers(), r.body());
        refused(reply);
        if (queue && r.statusCode() == 202) {
            boolean replayed = r.headers().firstValue("Idempotent-Replayed").map("true"::equalsIgnoreCase)
                    .orElse(false);
            return queued(kiln.client().json(r, name), replayed);
        }
        if (verbose) {
            printHead(reply);
        }
        return print(reply);
    }

    /** The path below {@code /function/NAME}: empty, or starting with a slash. */
    String subPath() {
        if (path == null || path.isEmpty() || path.equals("/")) {
            return path == null ? "" : path;
        }
        return path.startsWith("/") || path.startsWith("?") ? path : "/" + path;
    }

    private Body body() {
        CliEnv e = kiln.env();
        if (input != null && input.data != null) {
            String type = Json.parse(input.data) != null ? "application/json" : "text/plain; charset=utf-8";
            return new Body(input.data.getBytes(StandardCharsets.UTF_8), null, type);
        }
        if (input != null && input.file != null) {
            Path f = e.path(input.file);
            if (!Files.isRegularFile(f)) {
                throw new CliException(Exit.USAGE, "There is no file " + f + " to send.");
            }
            return new Body(null, f, "application/octet-stream");
        }
        if (!e.inTty()) {
            try {
                byte[] bytes = e.in().readAllBytes();
                return new Body(bytes, null, bytes.length == 0 ? null : "application/octet-stream");
            } catch (IOException ex) {
                throw new CliException(Exit.FAILED, "Cannot read standard input: " + ex.getMessage());
            }
        }
        return Body.NONE;
    }

    /** The request's headers as given: the content type, then every -H. */
    private List<Map.Entry<String, String>> requestHeaders(Body body) {
        List<Map.Entry<String, String>> all = new ArrayList<>();
        String type = contentType != null ? contentType : body.contentType();
        if (type != null) {
            all.add(Map.entry("Content-Type", type));
        }
        for (String h : headers) {
            int colon = h.indexOf(':');
            if (colon <= 0) {
                throw Kiln.usage(spec, "-H takes 'Name: value', got '" + h + "'");
            }
            all.add(Map.entry(h.substring(0, colon).strip(), h.substring(colon + 1).strip()));
        }
        return all;
    }

    // ---- --local ---------------------------------------------------------------------------

    /** {@code --local}: build or take the jar, run it in an agent process, call it once. */
    private int local(Body body, boolean queue) {
        if (!local) {
            throw Kiln.usage(spec, "--project, --jar, --handler and --env work only with --local");
        }
        if (queue) {
            throw Kiln.usage(spec, "--local calls are sync: --async and --wait need a server");
        }
        if (handler == null) {
            throw Kiln.usage(spec, "--local needs --handler CLASS (as for kiln deploy)");
        }
        if ((project == null) == (jar == null)) {
            throw Kiln.usage(spec, "--local needs one of --project DIR or --jar FILE");
        }
        Map<String, String> environment = new java.util.LinkedHashMap<>();
        for (String kv : env) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw Kiln.usage(spec, "--env takes K=V, got '" + kv + "'");
            }
            environment.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        CliEnv e = kiln.env();
        Path agentJar = LocalAgent.agentJar(e);
        Path file;
        if (project != null) {
            file = ProjectBuild.build(e.path(project), e.err());
        } else {
            file = e.path(jar);
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException ex) {
            throw new CliException(Exit.USAGE, "Cannot read the jar " + file + ": " + ex.getMessage());
        }
        e.err().println("Running " + name + " locally (" + handler + " from " + file.getFileName() + ") in an agent "
                + "process on this machine: NOT isolated (no VM, no snapshot; it runs with your rights). "
                + "For development only.");
        String m = method == null ? "POST" : method.toUpperCase(Locale.ROOT);
        String below = subPath();
        ObjectNode meta = LocalAgent.httpMeta(m, below, requestHeaders(body));
        io.kiln.protocol.Frame answer;
        try (LocalAgent agent = LocalAgent.start(agentJar, e.err())) {
            agent.load(bytes, handler, name, environment);
            answer = agent.invoke(meta, body.read());
        }
        if (answer instanceof io.kiln.protocol.ResultFrame r) {
            CallReply reply = localReply(r);
            if (verbose) {
                printHead(reply);
            }
            return print(reply);
        }
        if (!(answer instanceof io.kiln.protocol.ErrorFrame error)) {
            throw new CliException(Exit.FAILED, "The agent answered the call with " + answer.type());
        }
        JsonNode err = Json.parse(error.metadata().getBytes(StandardCharsets.UTF_8));
        ObjectNode shown = Json.object().put("code", err.path("code").asText()).put("message", err.path("message").asText())
                .put("callId", LocalAgent.callId());
        if (err.hasNonNull("type")) {
            shown.put("type", err.get("type").asText());
        }
        if (kiln.json()) {
            ObjectNode o = Json.object();
            o.set("error", shown);
            e.out().println(Json.pretty(o));
        } else {
            e.err().println(callFailure(name, 0, shown, null).replace(", HTTP 0", ""));
        }
        return Exit.FAILED;
    }

    /** A RESULT as the gateway answers it: the {@code http} status and headers, else 200 and the content type. */
    private static CallReply localReply(io.kiln.protocol.ResultFrame r) {
        JsonNode meta = Json.parse(r.metadata().getBytes(StandardCharsets.UTF_8));
        List<Map.Entry<String, String>> hs = new ArrayList<>();
        int status = 200;
        JsonNode http = meta == null ? null : meta.get("http");
        if (http != null && http.isObject()) {
            status = http.path("status").asInt(200);
            for (JsonNode pair : http.path("headers")) {
                hs.add(Map.entry(pair.get(0).asText(), pair.get(1).asText()));
            }
        } else if (meta != null && meta.hasNonNull("contentType")) {
            hs.add(Map.entry("Content-Type", meta.get("contentType").asText()));
        }
        return new CallReply(status, hs, LocalAgent.callId(), r.body());
    }

    /** The platform refused the call before it ran: no token, no such function. */
    private void refused(CallReply reply) {
        if (reply.callId() != null) {
            return; // the function ran, or an instance failed: its answer
        }
        JsonNode error = reply.kilnError();
        if (reply.status() == 401) {
            throw ServerErrors.badToken(kiln.settings());
        }
        if (reply.status() == 404 && error != null && error.path("code").asText().equals("not_found")) {
            throw ServerErrors.noFunction(name);
        }
    }

    private void printHead(CallReply reply) {
        PrintStream err = kiln.env().err();
        StringBuilder sb = new StringBuilder("< ").append(reply.status());
        if (reply.callId() != null) {
            sb.append("  call ").append(reply.callId());
        }
        String start = reply.header("X-Kiln-Start");
        if (start != null) {
            sb.append("  ").append(start).append(" start");
        }
        err.println(sb);
        for (Map.Entry<String, String> h : reply.headers()) {
            err.println("< " + h.getKey() + ": " + h.getValue());
        }
    }

    /** Prints the answer; the exit code. */
    private int print(CallReply reply) {
        CliEnv e = kiln.env();
        int exit = reply.status() >= 400 ? Exit.FAILED : Exit.OK;
        if (kiln.json()) {
            e.out().println(Json.pretty(reply.toJson()));
            return exit;
        }
        JsonNode error = reply.kilnError();
        if (error != null) {
            e.err().println(callFailure(name, reply.status(), error, reply.header("Retry-After")));
            return Exit.FAILED;
        }
        byte[] body = reply.body();
        e.out().write(body, 0, body.length);
        if (e.outTty() && body.length > 0 && body[body.length - 1] != '\n' && Format.isText(reply.contentType(), body)) {
            e.out().write('\n');
        }
        e.out().flush();
        return exit;
    }

    /** {@code The call to hello failed (timeout): ... [call 0123abcd]}, the function's output if the error has it. */
    static String callFailure(String name, int status, JsonNode error, String retryAfter) {
        String code = error.path("code").asText();
        StringBuilder sb = new StringBuilder();
        if (status == 429 || code.equals("too_many_requests") || code.equals("rate_limited")) {
            sb.append(name).append(" is busy (").append(code).append("): ").append(error.path("message").asText());
            if (retryAfter != null) {
                sb.append(". Retry after ").append(retryAfter).append(" s");
            }
        } else {
            sb.append("The call to ").append(name).append(" failed (").append(code).append(", HTTP ")
                    .append(status).append("): ").append(error.path("message").asText());
        }
        if (error.hasNonNull("callId")) {
            sb.append(" [call ").append(error.get("callId").asText()).append("]");
        }
        String output = error.path("output").asText("");
        if (!output.isBlank()) {
            sb.append("\n\nThe function's output:\n");
            for (String l : output.stripTrailing().split("\\R", -1)) {
                sb.append("  | ").append(l).append('\n');
            }
        }
        return sb.toString().stripTrailing();
    }

    // ---- async ---------------------------------------------------------------------------

    /**
     * The 202 of {@code POST /async-function/NAME}; {@code replayed} when the server answered with
     * the call an earlier submit with the same idempotency key made (header {@code Idempotent-Replayed}).
     */
    private int queued(JsonNode accepted, boolean replayed) {
        CliEnv e = kiln.env();
        String id = accepted.path("callId").asText();
        String statusUrl = kiln.settings().url() + accepted.path("statusUrl").asText("/v1/calls/" + id);
        String replay = "Not queued again: idempotency key '" + idempotencyKey + "' already named call " + id
                + " (" + accepted.path("status").asText() + ")";
        if (!await) {
            if (kiln.json()) {
                ObjectNode o = accepted.deepCopy();
                o.put("statusUrl", statusUrl);
                o.put("replayed", replayed);
                e.out().println(Json.pretty(o));
            } else {
                e.out().println(replayed ? replay : "Queued call " + id + " to " + name);
                e.out().println("Status: " + statusUrl);
            }
            return Exit.OK;
        }
        if (replayed) {
            // stdout is the result's; that it is an earlier call's is said on stderr.
            e.err().println(replay + "; waiting for its result");
        }
        if (verbose) {
            e.err().println("< 202  call " + id + " queued; waiting for its result");
        }
        JsonNode record = poll(id);
        String state = record.path("state").asText();
        if (state.equals("succeeded")) {
            CallReply reply = CallReply.ofRecord(id, record.path("result"));
            if (verbose) {
                printHead(reply);
            }
            return print(reply);
        }
        if (kiln.json()) {
            e.out().println(Json.pretty(record));
        } else {
            e.err().println(asyncFailure(name, record));
        }
        return Exit.FAILED;
    }

    /**
     * {@code -v}'s line for a call's new state: {@code < call ID running}; for {@code retrying},
     * also the failed attempt's error and when the next one starts.
     */
    static String stateLine(String id, JsonNode record) {
        String state = record.path("state").asText();
        StringBuilder sb = new StringBuilder("< call ").append(id).append(' ').append(state);
        if (state.equals("retrying")) {
            JsonNode error = record.path("error");
            sb.append(": attempt ").append(record.path("attempts").asInt()).append(" failed");
            if (error.isObject()) {
                sb.append(" (").append(error.path("code").asText()).append(": ")
                        .append(error.path("message").asText()).append(')');
            }
            if (record.hasNonNull("nextAttemptAt")) {
                sb.append("; next attempt at ").append(record.get("nextAttemptAt").asText());
            }
        }
        return sb.toString();
    }

    /**
     * A queued call that ended without a result: {@code The call to f failed (code): message [call
     * ID]} and how many attempts it had, or that it was cancelled.
     */
    static String asyncFailure(String name, JsonNode record) {
        String id = record.path("callId").asText();
        int attempts = record.path("attempts").asInt();
        if (record.path("state").asText().equals("cancelled")) {
            return "The call " + id + " to " + name + " was cancelled after " + Format.plural(attempts, "attempt",
                    "attempts") + ".";
        }
        JsonNode error = record.path("error");
        String failure = error.isObject() ? callFailure(name, 0, error, null).replace(", HTTP 0", "")
                : "The call to " + name + " failed [call " + id + "]";
        return failure + "\nIt failed after " + Format.plural(attempts, "attempt", "attempts")
                + " and is a dead letter now: kiln dead-letters ls " + name;
    }

    /**
     * Polls {@code GET /v1/calls/{id}} (every 50 ms, backing off to 1 s) until the call is done:
     * succeeded, failed (dead-lettered after its last attempt) or cancelled.
     */
    private JsonNode poll(String id) {
        long sleep = 50;
        String last = "queued";
        while (true) {
            JsonNode record;
            try {
                record = kiln.client().getJson("/v1/calls/" + KilnClient.segment(id), null);
            } catch (CliException e) {
                if (e.exitCode() == Exit.NOT_FOUND) {
                    throw new CliException(Exit.NOT_FOUND, "The server no longer knows call " + id
                            + " (its record expired, or the server restarted).");
                }
                throw e;
            }
            String state = record.path("state").asText();
            if (verbose && !state.equals(last)) {
                kiln.env().err().println(stateLine(id, record));
                last = state;
            }
            // queued, retrying (waiting out a backoff) and running go on; the others are final.
            if (state.equals("succeeded") || state.equals("failed") || state.equals("cancelled")) {
                return record;
            }
            try {
                Thread.sleep(sleep);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new KilnClient.Interrupted();
            }
            sleep = Math.min(1000, sleep * 2);
        }
    }
}
