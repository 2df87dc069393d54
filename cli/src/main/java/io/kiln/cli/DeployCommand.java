package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

/** {@code kiln deploy NAME (--jar F | --project DIR) --handler C [config]}. */
@Command(name = "deploy", sortOptions = false, usageHelpAutoWidth = true,
        header = "Deploy a jar as a function (a new version if NAME exists).",
        description = {
            "Uploads the jar (--jar), or first builds a Maven project (--project: `mvn -q -B -DskipTests package`, "
                    + "or ./mvnw, from the top of its multi-module build if it is a module of one), and waits while "
                    + "the server starts the function, runs its init and snapshots it. Progress goes to stderr: a bar "
                    + "on a terminal, plain lines otherwise.",
            "Each deploy sets the whole configuration: what is left out takes the server's default.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  kiln deploy hello --jar target/hello.jar --handler com.example.hello.Hello",
            "  kiln deploy hello --project examples/hello \\",
            "      --handler com.example.hello.Hello --public",
            "  kiln deploy resize --jar thumb.jar --handler com.example.Thumbnail \\",
            "      --memory 512 --timeout 30s --env QUALITY=80 --min 1 --max 4",
            "  kiln deploy billing --jar billing.jar --handler com.example.Charge \\",
            "      --max-retries 0 --on-failure function:billing-alerts",
        })
final class DeployCommand implements Callable<Integer> {

    @picocli.CommandLine.Mixin
    HelpOption help;

    private static final Pattern DURATION = Pattern.compile("\\d{1,12}(ms|s|m|h)?");

    @ParentCommand
    Kiln kiln;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The function's name (letters, digits, '-').")
    String name;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--jar", paramLabel = "FILE", required = true, description = "The jar to deploy.")
        String jar;

        @Option(names = "--project", paramLabel = "DIR", required = true,
                description = "A Maven project to build first; its one jar in DIR/target is deployed.")
        String project;
    }

    @Option(names = "--handler", required = true, paramLabel = "CLASS",
            description = "The handler class, like com.example.Hello (Handler, java.util.function.Function, or an AWS "
                    + "Lambda RequestHandler / RequestStreamHandler).")
    String handler;

    @Option(names = "--memory", paramLabel = "MiB", description = "Memory of each instance, in MiB.")
    Integer memory;

    @Option(names = "--timeout", paramLabel = "DURATION", description = "Longest a call may run: ms, or 500ms, 30s, 5m, 1h.")
    String timeout;

    @Option(names = "--keep-alive", paramLabel = "DURATION", description = "How long an idle instance is kept warm.")
    String keepAlive;

    @Option(names = "--env", paramLabel = "K=V", description = "An environment variable for the function (repeatable).")
    List<String> env = new ArrayList<>();

    @Option(names = "--min", paramLabel = "N", description = "Instances kept warm at all times.")
    Integer min;

    @Option(names = "--max", paramLabel = "N", description = "Most instances at once.")
    Integer max;

    @Option(names = "--concurrency", paramLabel = "N", description = "Most calls in flight at once.")
    Integer concurrency;

    @Option(names = "--public", description = "Anyone may call it, without the token (managing it still needs one).")
    boolean isPublic;

    @Option(names = "--max-retries", paramLabel = "N",
            description = "Event-driven calls (async, schedules, topics, jobs): retries after a failed attempt "
                    + "(0: none; a failure is dead-lettered at once).")
    Integer maxRetries;

    @Option(names = "--retry-backoff", paramLabel = "DURATION",
            description = "The first retry's delay; each next one doubles, with jitter.")
    String retryBackoff;

    @Option(names = "--max-retry-backoff", paramLabel = "DURATION", description = "The longest delay between retries.")
    String maxRetryBackoff;

    @Option(names = "--max-event-age", paramLabel = "DURATION",
            description = "An event older than this is dead-lettered rather than started or retried (0: no limit).")
    String maxEventAge;

    @Option(names = "--on-success", paramLabel = "DEST",
            description = "Where the record of a succeeded event-driven call goes: function:NAME or an http(s) URL.")
    String onSuccess;

    @Option(names = "--on-failure", paramLabel = "DEST",
            description = "Where the record of a dead-lettered call goes: function:NAME or an http(s) URL.")
    String onFailure;

    @Override
    public Integer call() {
        String query = query();
        CliEnv e = kiln.env();
        Path jar;
        if (source.project != null) {
            jar = ProjectBuild.build(e.path(source.project), e.err());
        } else {
            jar = e.path(source.jar);
            if (!Files.isRegularFile(jar)) {
                throw new CliException(Exit.USAGE, "There is no file " + jar + " to deploy.");
            }
        }
        return deploy(jar, query);
    }

    /** The configuration as the query string of {@code PUT /v1/functions/{name}}; usage errors first. */
    String query() {
        List<String> q = new ArrayList<>();
        q.add(param("handler", handler));
        if (memory != null) {
            positive("--memory", memory);
            q.add(param("memory", memory.toString()));
        }
        if (timeout != null) {
            q.add(param("timeout", duration("--timeout", timeout)));
        }
        if (keepAlive != null) {
            q.add(param("keepAlive", duration("--keep-alive", keepAlive)));
        }
        for (String kv : env) {
            if (kv.indexOf('=') <= 0) {
                throw Kiln.usage(spec, "--env takes NAME=value, got '" + kv + "'");
            }
            q.add(param("env", kv));
        }
        if (concurrency != null) {
            positive("--concurrency", concurrency);
            q.add(param("maxConcurrency", concurrency.toString()));
        }
        if (min != null) {
            if (min < 0) {
                throw Kiln.usage(spec, "--min must be 0 or more, got " + min);
            }
            q.add(param("minInstances", min.toString()));
        }
        if (max != null) {
            positive("--max", max);
            q.add(param("maxInstances", max.toString()));
        }
        if (isPublic) {
            q.add(param("public", "true"));
        }
        if (maxRetries != null) {
            if (maxRetries < 0) {
                throw Kiln.usage(spec, "--max-retries must be 0 or more, got " + maxRetries);
            }
            q.add(param("maxRetries", maxRetries.toString()));
        }
        if (retryBackoff != null) {
            q.add(param("retryBackoff", duration("--retry-backoff", retryBackoff)));
        }
        if (maxRetryBackoff != null) {
            q.add(param("maxRetryBackoff", duration("--max-retry-backoff", maxRetryBackoff)));
        }
        if (maxEventAge != null) {
            q.add(param("maxEventAge", duration("--max-event-age", maxEventAge)));
        }
        if (onSuccess != null) {
            q.add(param("onSuccess", destination("--on-success", onSuccess)));
        }
        if (onFailure != null) {
            q.add(param("onFailure", destination("--on-failure", onFailure)));
        }
        return String.join("&", q);
    }

    private void positive(String option, int n) {
        if (n < 1) {
            throw Kiln.usage(spec, option + " must be 1 or more, got " + n);
        }
    }

    private String duration(String option, String v) {
        if (!DURATION.matcher(v.strip()).matches()) {
            throw Kiln.usage(spec, option + " takes milliseconds or a duration like 500ms, 30s, 5m, 1h; got '" + v + "'");
        }
        return v.strip();
    }

    /** The form the server takes; whether the URL or function name is good is the server's to say. */
    private String destination(String option, String v) {
        String d = v.strip();
        if (!(d.startsWith("function:") && d.length() > "function:".length())
                && !d.startsWith("http://") && !d.startsWith("https://")) {
            throw Kiln.usage(spec, option + " takes function:NAME or an http(s) URL, got '" + v + "'");
        }
        return d;
    }

    private static String param(String k, String v) {
        return k + "=" + URLEncoder.encode(v, StandardCharsets.UTF_8);
    }

    private int deploy(Path jar, String query) {
        CliEnv e = kiln.env();
        KilnClient client = kiln.client();
        long size;
        try {
            size = Files.size(jar);
        } catch (IOException ex) {
            throw new CliException(Exit.USAGE, "Cannot read " + jar + ": " + ex.getMessage());
        }
        UploadProgress upload = new UploadProgress(e.err(), e.errTty(), jar.getFileName().toString(), size);
        HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.fromPublisher(
                HttpRequest.BodyPublishers.ofInputStream(() -> {
                    try {
                        return upload.wrap(Files.newInputStream(jar));
                    } catch (IOException ex) {
                        throw new UncheckedIOException(ex);
                    }
                }), size);
        HttpRequest request = client.request("/v1/functions/" + KilnClient.segment(name) + "?" + query)
                .PUT(body)
                .header("Content-Type", "application/java-archive")
                .header("Accept", "application/x-ndjson")
                // No Expect: 100-continue: JDK 17's client waits forever for a body after a final answer
                // to it (JDK-8286171, fixed in 20). The gateway answers a refused deploy (401, 400)
                // without reading the jar and the client reads that answer all the same.
                .build();
        upload.start();
        HttpResponse<InputStream> r;
        try {
            r = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } finally {
            upload.finish();
        }
        String type = r.headers().firstValue("Content-Type").orElse("");
        JsonNode last;
        try (InputStream in = r.body()) {
            if (r.statusCode() == 200 && type.startsWith("application/x-ndjson")) {
                last = readProgress(in);
            } else {
                last = Json.parse(in.readAllBytes());
                if (r.statusCode() == 401) {
                    throw ServerErrors.badToken(client.settings());
                }
                if (r.statusCode() / 100 == 2 && last != null) {
                    last = Json.object().set("function", last);
                }
            }
        } catch (IOException ex) {
            throw new CliException(Exit.UNREACHABLE, "Lost the connection to the Kiln server at "
                    + client.settings().url() + " during the deploy: " + ex.getMessage(), ex);
        }
        if (last != null && last.has("function")) {
            summary(last.get("function"));
            return Exit.OK;
        }
        throw failure(r.statusCode(), last);
    }

    /** Prints each progress line as it arrives; the final line (function or error), or null. */
    private JsonNode readProgress(InputStream in) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        String line;
        JsonNode last = null;
        while ((line = reader.readLine()) != null) {
            JsonNode node = Json.parse(line);
            if (node == null) {
                continue;
            }
            if (node.has("progress")) {
                kiln.env().err().println("  " + node.get("progress").asText());
            } else {
                last = node;
            }
        }
        return last;
    }

    private CliException failure(int status, JsonNode last) {
        JsonNode error = Json.error(last);
        if (error == null) {
            return new CliException(Exit.DEPLOY_FAILED, "Deploy of '" + name + "' failed: the server answered "
                    + status + " without saying why.");
        }
        return new CliException(Exit.DEPLOY_FAILED, deployFailure(name, error));
    }

    /**
     * {@code Deploy of 'x' failed (init_failed): message}, then the function's own output
     * during init under a heading, each line indented.
     */
    static String deployFailure(String name, JsonNode error) {
        StringBuilder sb = new StringBuilder("Deploy of '").append(name).append("' failed (")
                .append(error.path("code").asText()).append("): ").append(error.path("message").asText());
        String output = error.path("output").asText("");
        if (!output.isBlank()) {
            sb.append("\n\nThe function's output during init:\n");
            for (String l : output.stripTrailing().split("\\R", -1)) {
                sb.append("  | ").append(l).append('\n');
            }
        }
        return sb.toString().stripTrailing();
    }

    /** How a shell gets the token: {@code $KILN_TOKEN}, or {@code $(cat <data dir>/token)} when it came from there. */
    static String tokenHint(Settings s) {
        if (s.tokenSource() != null && s.tokenSource().endsWith("/token")) {
            return "$(cat " + s.tokenSource() + ")";
        }
        return "$KILN_TOKEN";
    }

    private void summary(JsonNode fn) {
        CliEnv e = kiln.env();
        if (kiln.json()) {
            e.out().println(Json.pretty(fn));
            return;
        }
        String n = fn.path("name").asText(name);
        String url = kiln.settings().url() + fn.path("url").asText("/function/" + n);
        boolean pub = fn.path("config").path("public").asBoolean(false);
        e.out().println("Deployed " + n + " version " + fn.path("version").asText() + " — call it: kiln invoke " + n);
        e.out().println("  or: curl " + (pub ? "" : "-H \"Authorization: Bearer " + tokenHint(kiln.settings()) + "\" ")
                + "-d '...' " + url);
    }
}
