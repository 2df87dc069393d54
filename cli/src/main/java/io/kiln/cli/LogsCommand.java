package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;

/** {@code kiln logs NAME [-f] [-n N] [--since TIME]}. */
@Command(name = "logs", sortOptions = false, usageHelpAutoWidth = true,
        header = "Print a function's recent log lines, or follow them.",
        description = {
            "Each line is: time (UTC), call id (- for lines outside a call), stream (stdout, stderr, log, kiln, "
                    + "console), text; on several nodes the node after the time. Each node keeps its functions' "
                    + "lines on disk (64 MiB and 7 days each by default); without --since the newest N come from "
                    + "the last 2000 it holds in memory.",
            "--since TIME prints the oldest N lines from that time on (ISO-8601, or an age such as 30m, 2h, "
                    + "1d), read from disk.",
            "-f keeps printing new lines until Ctrl-C; if the server drops the stream it reconnects and resumes "
                    + "after the last line printed.",
            "--output json prints the server's {\"lines\":[...]}; with -f one JSON object per line (NDJSON).",
        },
        footerHeading = "%nExamples:%n",
        footer = {"  kiln logs hello", "  kiln logs hello -f", "  kiln logs hello -n 500 | grep ERROR",
            "  kiln logs hello --since 2h -n 2000"})
final class LogsCommand implements Callable<Integer> {

    @picocli.CommandLine.Mixin
    HelpOption help;

    static final int MAX_LIMIT = 2000;

    @ParentCommand
    Kiln kiln;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The function.")
    String name;

    @Option(names = {"-f", "--follow"}, description = "Keep printing new lines until Ctrl-C.")
    boolean follow;

    @Option(names = {"-n", "--limit"}, paramLabel = "N", description = "How many recent lines (1 to 2000, default ${DEFAULT-VALUE}).")
    int limit = 100;

    @Option(names = "--since", paramLabel = "TIME", description = "The oldest lines from TIME on: ISO-8601 "
            + "(2026-11-30T08:00:00Z) or an age (30m, 2h, 1d). Not with -f.")
    String since;

    @Override
    public Integer call() {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw Kiln.usage(spec, "--limit takes 1 to " + MAX_LIMIT + ", got " + limit);
        }
        String base = "/v1/functions/" + KilnClient.segment(name) + "/logs?limit=" + limit;
        if (since != null) {
            if (follow) {
                throw Kiln.usage(spec, "--since cannot be combined with -f");
            }
            base += "&since=" + sinceTime(since, Instant.now());
        }
        if (!follow) {
            JsonNode logs = kiln.client().getJson(base, name);
            if (kiln.json()) {
                kiln.env().out().println(Json.pretty(logs));
            } else {
                for (JsonNode l : logs.path("lines")) {
                    kiln.env().out().println(line(l));
                }
            }
            return Exit.OK;
        }
        return follow(base);
    }

    private int follow(String base) {
        KilnClient client = kiln.client();
        // The last seq printed per node: seqs are per node, so a reconnect passes after= only
        // while one node has been seen, and lines already printed are skipped by node and seq.
        Map<String, Long> printed = new HashMap<>();
        while (true) {
            String url = base + "&follow=true" + (printed.size() == 1 ? "&after=" + printed.values().iterator().next()
                    : "");
            HttpResponse<InputStream> r = client.send(client.request(url).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            if (r.statusCode() != 200) {
                byte[] body;
                try (InputStream in = r.body()) {
                    body = in.readAllBytes();
                } catch (IOException e) {
                    body = new byte[0];
                }
                throw ServerErrors.of(r.statusCode(), body, client.settings(), name);
            }
            try {
                print(r.body(), printed);
            } catch (InterruptedException e) {
                return Exit.OK; // Ctrl-C in a JVM that survives it: a test, or an embedding program
            }
            // The stream ended: the server dropped a follower that fell behind, or went away.
            // Reconnect after the last line printed; if the server is gone, that says so (exit 3).
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                return Exit.OK;
            }
        }
    }

    /** An ISO-8601 time as given, or an age ({@code 90s}, {@code 30m}, {@code 2h}, {@code 1d}) before {@code now}. */
    static String sinceTime(String v, Instant now) {
        String t = v.strip();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,9})([smhd])").matcher(t);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            java.time.Duration age = switch (m.group(2)) {
                case "s" -> java.time.Duration.ofSeconds(n);
                case "m" -> java.time.Duration.ofMinutes(n);
                case "h" -> java.time.Duration.ofHours(n);
                default -> java.time.Duration.ofDays(n);
            };
            return now.minus(age).toString();
        }
        try {
            return Instant.parse(t).toString();
        } catch (java.time.format.DateTimeParseException e) {
            throw new CliException(Exit.USAGE, "--since takes an ISO-8601 time (2026-11-30T08:00:00Z) or an age "
                    + "(30m, 2h, 1d), got \"" + v + "\"");
        }
    }

    private static final Object END = new Object();

    /**
     * Prints the stream's lines until it ends, each once by (node, seq). A reader thread feeds the
     * lines through a queue because a read from the JDK client's body stream ignores interrupts;
     * waiting on the queue does not, and then the stream is closed and its reader woken.
     */
    private void print(InputStream in, Map<String, Long> printed) throws InterruptedException {
        BlockingQueue<Object> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String text;
                while ((text = r.readLine()) != null) {
                    lines.add(text);
                }
            } catch (IOException e) {
                // broken or closed: the same as its end
            } finally {
                lines.add(END);
            }
        }, "kiln-logs-reader");
        reader.setDaemon(true);
        reader.start();
        try {
            Object next;
            while ((next = lines.take()) != END) {
                JsonNode l = Json.parse((String) next);
                if (l == null) {
                    continue;
                }
                String node = l.path("node").asText("");
                long seq = l.path("seq").asLong();
                if (seq <= printed.getOrDefault(node, 0L)) {
                    continue; // printed before a reconnect
                }
                printed.put(node, seq);
                kiln.env().out().println(kiln.json() ? Json.line(l) : line(l));
                kiln.env().out().flush();
            }
            return;
        } catch (InterruptedException e) {
            try {
                in.close(); // cancels the stream; the interrupt wakes the reader, which then sees it closed
            } catch (IOException ignored) {
                // closing a body stream does not fail
            }
            reader.interrupt();
            throw e;
        }
    }

    /**
     * {@code 2026-01-01T10:00:00.123Z  0123456789abcdef  stdout  text}; on a node with a name
     * of its own (several nodes), {@code [n2]} after the time.
     */
    static String line(JsonNode l) {
        String callId = l.path("callId").isTextual() ? l.path("callId").asText() : "-";
        String node = l.path("node").asText("local");
        return String.format("%s  %s%-16s  %-7s %s", l.path("time").asText(), node.equals("local") ? ""
                : "[" + node + "]  ", callId, l.path("stream").asText(), l.path("text").asText());
    }
}
