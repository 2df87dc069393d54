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

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code kiln jobs submit|watch|ls|results|cancel|redrive}: batch jobs over data sets. */
@Command(name = "jobs", usageHelpAutoWidth = true,
        header = "Run a function over every record of a data set, and follow the job.",
        description = {
            "A job calls the function once per record (or per group of --records-per-call records) through the "
                    + "durable queue, at most --concurrency calls at a time. Results and failures are kept as "
                    + "JSON Lines in record order.",
        },
        subcommands = {JobsCommand.Submit.class, JobsCommand.Watch.class, JobsCommand.Ls.class,
            JobsCommand.Results.class, JobsCommand.Cancel.class, JobsCommand.Redrive.class},
        footerHeading = "%nExamples:%n",
        footer = {"  kiln jobs submit --function enrich --csv orders.csv --tolerate 1% --watch",
            "  kiln jobs ls", "  kiln jobs results 3f2a9c0d1e4b5a67 --out results.jsonl"})
final class JobsCommand implements Runnable {

    @picocli.CommandLine.Mixin
    HelpOption help;

    @ParentCommand
    Kiln kiln;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(kiln.env().out());
    }

    static String path(String id, String rest) {
        return "/v1/jobs/" + KilnClient.segment(id) + rest;
    }

    static String q(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** POST with no body, answered with JSON. */
    static JsonNode post(Kiln kiln, String path) {
        KilnClient c = kiln.client();
        HttpResponse<byte[]> r = c.send(c.request(path).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        return c.json(r, null);
    }

    /** An NDJSON stream's body, or the server's error. */
    static InputStream stream(Kiln kiln, String path) {
        KilnClient c = kiln.client();
        HttpResponse<InputStream> r = c.send(c.request(path).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            byte[] body;
            try (InputStream in = r.body()) {
                body = in.readAllBytes();
            } catch (IOException e) {
                body = new byte[0];
            }
            throw ServerErrors.of(r.statusCode(), body, c.settings(), null);
        }
        return r.body();
    }

    /** {@code 370/1000 done, 2 failed, 10 in flight, 12.5/s, ETA 48s}. */
    static String counts(JsonNode j) {
        StringBuilder sb = new StringBuilder();
        sb.append(j.path("done").asLong()).append('/').append(j.path("total").asLong()).append(" done, ")
                .append(j.path("failed").asLong()).append(" failed, ").append(j.path("inFlight").asLong())
                .append(" in flight");
        if (j.path("cancelled").asLong() > 0) {
            sb.append(", ").append(j.path("cancelled").asLong()).append(" cancelled");
        }
        if (j.path("duplicates").asLong() > 0) {
            sb.append(", ").append(j.path("duplicates").asLong()).append(" duplicates");
        }
        if (j.has("rate")) {
            sb.append(String.format(Locale.ROOT, ", %.1f/s", j.path("rate").asDouble()));
        }
        if (j.path("etaSeconds").isNumber()) {
            sb.append(", ETA ").append(Format.millis(j.path("etaSeconds").asLong() * 1000));
        }
        return sb.toString();
    }

    /** {@code [##########--------------------]  37%  370/1000 done, ...}. */
    static String bar(JsonNode j) {
        long total = Math.max(1, j.path("total").asLong());
        long ended = j.path("done").asLong() + j.path("failed").asLong() + j.path("cancelled").asLong();
        double f = Math.min(1, (double) ended / total);
        int full = (int) Math.round(f * 30);
        return String.format(Locale.ROOT, "[%s%s] %3d%%  %s", "#".repeat(full), "-".repeat(30 - full),
                Math.round(f * 100), counts(j));
    }

    /** The last line of a job: its end. */
    static String summary(JsonNode j) {
        String s = "Job " + j.path("id").asText() + " " + j.path("state").asText() + ": " + counts(j);
        JsonNode reason = j.path("stopReason");
        return reason.isTextual() ? s + " (" + reason.asText() + ")" : s;
    }

    /** Follows a job's progress stream to its end; exit 0 if it succeeded (within its tolerance), else 1. */
    static int watch(Kiln kiln, String id) {
        CliEnv e = kiln.env();
        PrintStream out = e.out();
        boolean bar = e.outTty() && !kiln.json();
        JsonNode last = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(stream(kiln, path(id, "/progress")),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                JsonNode j = Json.parse(line);
                if (j == null) {
                    continue;
                }
                last = j;
                if (kiln.json()) {
                    out.println(Json.line(j));
                } else if (bar) {
                    out.print("\r" + bar(j) + "\u001b[K");
                } else {
                    out.println(j.path("state").asText() + ": " + counts(j));
                }
                out.flush();
            }
        } catch (IOException ex) {
            throw new CliException(Exit.UNREACHABLE, "Lost the progress stream of job " + id + ": " + ex.getMessage());
        }
        if (last == null) {
            throw new CliException(Exit.FAILED, "The server sent no progress for job " + id + ".");
        }
        if (bar) {
            out.println();
        }
        if (!kiln.json()) {
            out.println(summary(last));
        }
        return last.path("state").asText().equals("succeeded") ? Exit.OK : Exit.FAILED;
    }

    // ---- subcommands ---------------------------------------------------------------------

    @Command(name = "submit", sortOptions = false, usageHelpAutoWidth = true,
            header = "Submit a job: a function and a data set (JSON Lines or CSV).",
            description = {
                "The data set is uploaded as it is (up to 256 MiB). JSON Lines: one JSON value per non-blank line. "
                        + "CSV: a header line, then each row becomes a JSON object of header -> value (strings).",
                "A call receives one record (JSON), or with --records-per-call N > 1 a JSON array of N records.",
                "--server-file reads a file under the server's --jobs-input-dir instead of uploading one.",
                "Prints the job's id; --watch then follows it like `kiln jobs watch`.",
            },
            footerHeading = "%nExamples:%n",
            footer = {"  kiln jobs submit --function enrich --csv orders.csv --watch",
                "  kiln jobs submit --function resize --file images.jsonl --records-per-call 10 --concurrency 4"
                        + " --tolerate 2%"})
    static final class Submit implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        HelpOption help;

        @ParentCommand
        JobsCommand jobs;

        @Spec
        CommandSpec spec;

        @Option(names = "--function", required = true, paramLabel = "NAME", description = "The function to call.")
        String function;

        static final class Input {
            @Option(names = "--file", paramLabel = "FILE",
                    description = "A JSON Lines data set (CSV if the name ends in .csv).")
            Path file;

            @Option(names = "--csv", paramLabel = "FILE", description = "A CSV data set.")
            Path csv;

            @Option(names = "--server-file", paramLabel = "PATH",
                    description = "A file under the server's --jobs-input-dir (.jsonl, .ndjson or .csv).")
            String serverFile;
        }

        @ArgGroup(exclusive = true, multiplicity = "1")
        Input input;

        @Option(names = "--records-per-call", paramLabel = "N", description = "Records each call receives (default 1).")
        Integer recordsPerCall;

        @Option(names = "--concurrency", paramLabel = "N", description = "Calls at once (default 10).")
        Integer concurrency;

        @Option(names = "--tolerate", paramLabel = "N|P%",
                description = "Failed records tolerated before the job stops: a count, or a percentage of all "
                        + "records (default 0).")
        String tolerate;

        @Option(names = "--max-retries", paramLabel = "N",
                description = "Retries of a failed call, instead of the function's event policy (0: none).")
        Integer maxRetries;

        @Option(names = "--watch", description = "Follow the job's progress until it ends.")
        boolean watch;

        @Override
        public Integer call() {
            Kiln kiln = jobs.kiln;
            KilnClient c = kiln.client();
            HttpRequest request;
            if (input.serverFile != null) {
                ObjectNode body = Json.object().put("function", function);
                body.putObject("input").put("file", input.serverFile);
                if (recordsPerCall != null) {
                    body.put("recordsPerCall", recordsPerCall);
                }
                if (concurrency != null) {
                    body.put("maxConcurrency", concurrency);
                }
                if (maxRetries != null) {
                    body.putObject("retry").put("maxRetries", maxRetries);
                }
                if (tolerate != null) {
                    String t = tolerate.strip();
                    try {
                        if (t.endsWith("%")) {
                            body.putObject("tolerate").put("failurePercent",
                                    Double.parseDouble(t.substring(0, t.length() - 1)));
                        } else {
                            body.putObject("tolerate").put("failures", Long.parseLong(t));
                        }
                    } catch (NumberFormatException ex) {
                        throw Kiln.usage(spec, "--tolerate takes a count like 10 or a percentage like 5%, got "
                                + tolerate);
                    }
                }
                request = c.request("/v1/jobs").header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(Json.line(body))).build();
            } else {
                Path file = kiln.env().path((input.csv != null ? input.csv : input.file).toString());
                if (!Files.isRegularFile(file)) {
                    throw Kiln.usage(spec, "no such file: " + file);
                }
                boolean csv = input.csv != null || file.getFileName().toString().toLowerCase(Locale.ROOT)
                        .endsWith(".csv");
                StringBuilder query = new StringBuilder("/v1/jobs?function=").append(q(function))
                        .append("&format=").append(csv ? "csv" : "jsonl");
                if (recordsPerCall != null) {
                    query.append("&recordsPerCall=").append(recordsPerCall);
                }
                if (concurrency != null) {
                    query.append("&maxConcurrency=").append(concurrency);
                }
                if (tolerate != null) {
                    query.append("&tolerate=").append(q(tolerate));
                }
                if (maxRetries != null) {
                    query.append("&maxRetries=").append(maxRetries);
                }
                try {
                    request = c.request(query.toString()).header("Content-Type", csv ? "text/csv"
                            : "application/x-ndjson").POST(HttpRequest.BodyPublishers.ofFile(file)).build();
                } catch (java.io.FileNotFoundException ex) {
                    throw Kiln.usage(spec, "no such file: " + file);
                }
            }
            HttpResponse<byte[]> r = c.send(request, HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() == 404) {
                throw ServerErrors.of(r.statusCode(), r.body(), c.settings(), function);
            }
            JsonNode job = c.json(r, null);
            String id = job.path("id").asText();
            if (kiln.json() && !watch) {
                kiln.env().out().println(Json.pretty(job));
                return Exit.OK;
            }
            if (!kiln.json()) {
                kiln.env().out().println("Job " + id + " submitted: " + Format.plural(job.path("total").asLong(),
                        "record", "records") + " for " + function + ". Follow it with: kiln jobs watch " + id);
            }
            return watch ? JobsCommand.watch(kiln, id) : Exit.OK;
        }
    }

    @Command(name = "watch", usageHelpAutoWidth = true,
            header = "Follow a job's progress until it ends.",
            description = {"On a terminal a progress bar redrawn in place; otherwise a plain line per update. "
                    + "--output json prints the server's progress objects, one per line. Exit 0 if the job "
                    + "succeeded (its failures, if any, within its tolerance), else 1."})
    static final class Watch implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        HelpOption help;

        @ParentCommand
        JobsCommand jobs;

        @Parameters(index = "0", paramLabel = "ID", description = "The job.")
        String id;

        @Override
        public Integer call() {
            return JobsCommand.watch(jobs.kiln, id);
        }
    }

    @Command(name = "ls", aliases = "list", usageHelpAutoWidth = true,
            header = "List jobs, newest first.",
            description = "A table: ID FUNCTION STATE DONE FAILED TOTAL CREATED. --output json prints the server's "
                    + "{\"jobs\":[...]}.")
    static final class Ls implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        HelpOption help;

        @ParentCommand
        JobsCommand jobs;

        @Override
        public Integer call() {
            Kiln kiln = jobs.kiln;
            JsonNode all = kiln.client().getJson("/v1/jobs", null);
            if (kiln.json()) {
                kiln.env().out().println(Json.pretty(all));
                return Exit.OK;
            }
            if (all.path("jobs").isEmpty()) {
                kiln.env().out().println("No jobs. Submit one with: kiln jobs submit --function NAME --file DATA.jsonl");
                return Exit.OK;
            }
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode j : all.path("jobs")) {
                rows.add(List.of(j.path("id").asText(), j.path("function").asText(), j.path("state").asText(),
                        j.path("done").asText(), j.path("failed").asText(), j.path("total").asText(),
                        j.path("createdAt").asText()));
            }
            kiln.env().out().print(Format.table(List.of("ID", "FUNCTION", "STATE", "DONE", "FAILED", "TOTAL",
                    "CREATED"), rows));
            return Exit.OK;
        }
    }

    @Command(name = "results", sortOptions = false, usageHelpAutoWidth = true,
            header = "Download a job's results (or failures) as JSON Lines, in record order.",
            description = {"Results: {\"index\",\"input\",\"output\"} per call. Failures: {\"index\",\"input\","
                    + "\"error\",\"attempts\"}. Written to standard output, or to --out FILE."})
    static final class Results implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        HelpOption help;

        @ParentCommand
        JobsCommand jobs;

        @Parameters(index = "0", paramLabel = "ID", description = "The job.")
        String id;

        @Option(names = "--failures", description = "The failed records with their errors, not the results.")
        boolean failures;

        @Option(names = "--out", paramLabel = "FILE", description = "Write to FILE instead of standard output.")
        Path out;

        @Override
        public Integer call() {
            Kiln kiln = jobs.kiln;
            InputStream in = stream(kiln, path(id, failures ? "/failures" : "/results"));
            try (in) {
                if (out == null) {
                    in.transferTo(kiln.env().out());
                    kiln.env().out().flush();
                } else {
                    Path file = kiln.env().path(out.toString());
                    try (OutputStream o = Files.newOutputStream(file)) {
                        long n = in.transferTo(o);
                        kiln.env().err().println("Wrote " + Format.bytes(n) + " to " + file);
                    }
                }
            } catch (IOException ex) {
                throw new CliException(Exit.FAILED, "Downloading the " + (failures ? "failures" : "results")
                        + " of job " + id + " failed: " + ex.getMessage());
            }
            return Exit.OK;
        }
    }

    @Command(name = "cancel", usageHelpAutoWidth = true, header = "Cancel a running job.",
            description = "Calls not yet started are cancelled; those running finish and are recorded.")
    static final class Cancel implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        HelpOption help;

        @ParentCommand
        JobsCommand jobs;

        @Parameters(index = "0", paramLabel = "ID", description = "The job.")
        String id;

        @Override
        public Integer call() {
            JsonNode job = post(jobs.kiln, path(id, "/cancel"));
            jobs.kiln.env().out().println(jobs.kiln.json() ? Json.pretty(job) : summary(job));
            return Exit.OK;
        }
    }

    @Command(name = "redrive", usageHelpAutoWidth = true, header = "Run a job's failed records again.",
            description = "Its failed records, and those a stop left unrun, are fed to the function again (after a "
                    + "fix, say); the job runs again until they end.")
    static final class Redrive implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        HelpOption help;

        @ParentCommand
        JobsCommand jobs;

        @Parameters(index = "0", paramLabel = "ID", description = "The job.")
        String id;

        @Override
        public Integer call() {
            JsonNode r = post(jobs.kiln, path(id, "/redrive"));
            if (jobs.kiln.json()) {
                jobs.kiln.env().out().println(Json.pretty(r));
            } else {
                jobs.kiln.env().out().println("Redriven " + Format.plural(r.path("redriven").asLong(), "record",
                        "records") + " of job " + id + ".");
            }
            return Exit.OK;
        }
    }
}
