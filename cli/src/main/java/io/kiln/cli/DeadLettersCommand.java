package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code kiln dead-letters ls|redrive FUNCTION}: queued calls that used up their attempts. */
@Command(name = "dead-letters", usageHelpAutoWidth = true,
        header = "List a function's dead letters, or put them back in the queue.",
        description = "A dead letter is an event-driven call (async, schedule, topic, job) that failed its last "
                + "attempt or outlived its maximum event age (kiln deploy --max-retries, --max-event-age). It keeps "
                + "its input and every attempt's error.",
        subcommands = {DeadLettersCommand.Ls.class, DeadLettersCommand.Redrive.class},
        footerHeading = "%nExamples:%n",
        footer = {"  kiln dead-letters ls resize", "  kiln dead-letters redrive resize"})
final class DeadLettersCommand implements Runnable {

    @picocli.CommandLine.Mixin
    HelpOption help;

    @ParentCommand
    Kiln kiln;

    @Spec
    CommandSpec spec;

    /** The longest input preview, in characters. */
    static final int PREVIEW = 60;
    /** The longest error message in the table (--output json has all of it). */
    static final int MESSAGE = 100;

    @Override
    public void run() {
        throw Kiln.usage(spec, "dead-letters needs a subcommand: ls or redrive");
    }

    @Command(name = "ls", aliases = "list", usageHelpAutoWidth = true,
            header = "List a function's dead letters, oldest first.",
            description = "A table: CALL ID, FAILED (when, UTC), ATTEMPTS, ERROR (code: message of the last "
                    + "attempt), INPUT (its first " + PREVIEW + " characters, unprintable ones as '.'). "
                    + "--output json prints the server's {\"function\",\"deadLetters\":[...]}, each with "
                    + "inputBase64 and attemptLog.",
            footerHeading = "%nExamples:%n",
            footer = {"  kiln dead-letters ls resize", "  kiln dead-letters ls resize --limit 10",
                "  kiln dead-letters ls resize -o json | jq -r '.deadLetters[].callId'"})
    static final class Ls implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        HelpOption help;

        @ParentCommand
        DeadLettersCommand parent;

        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "FUNCTION", description = "The function.")
        String function;

        @Option(names = {"-n", "--limit"}, paramLabel = "N", description = "At most N (1 to 1000, default 100).")
        Integer limit;

        @Override
        public Integer call() {
            if (limit != null && (limit < 1 || limit > 1000)) {
                throw Kiln.usage(spec, "--limit must be between 1 and 1000, got " + limit);
            }
            Kiln kiln = parent.kiln;
            JsonNode all = kiln.client().getJson("/v1/functions/" + KilnClient.segment(function) + "/dead-letters"
                    + (limit == null ? "" : "?limit=" + limit), function);
            if (kiln.json()) {
                kiln.env().out().println(Json.pretty(all));
            } else {
                kiln.env().out().print(table(function, all));
            }
            return Exit.OK;
        }
    }

    @Command(name = "redrive", usageHelpAutoWidth = true,
            header = "Put a function's dead letters back in the queue, with fresh attempts.",
            description = "All of them, or only the calls named. Each keeps its call id; `kiln invoke`'s status URL "
                    + "and GET /v1/calls/ID follow it again. --output json prints the server's "
                    + "{\"function\",\"redriven\":N}.",
            footerHeading = "%nExamples:%n",
            footer = {"  kiln dead-letters redrive resize",
                "  kiln dead-letters redrive resize 3f6c0e1b9a7d44e2 0b5a1c2d3e4f5061"})
    static final class Redrive implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        HelpOption help;

        @ParentCommand
        DeadLettersCommand parent;

        @Parameters(index = "0", paramLabel = "FUNCTION", description = "The function.")
        String function;

        @Parameters(index = "1..*", paramLabel = "CALL_ID", description = "Only these dead letters (default: all).")
        List<String> callIds = new ArrayList<>();

        @Override
        public Integer call() {
            Kiln kiln = parent.kiln;
            KilnClient client = kiln.client();
            HttpRequest.Builder b = client.request("/v1/functions/" + KilnClient.segment(function)
                    + "/dead-letters/redrive").header("Accept", "application/json");
            if (callIds.isEmpty()) {
                b.POST(HttpRequest.BodyPublishers.noBody());
            } else {
                ObjectNode body = Json.object();
                ArrayNode ids = body.putArray("callIds");
                callIds.forEach(ids::add);
                b.header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(Json.line(body)));
            }
            JsonNode answer = client.json(client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray()), function);
            if (kiln.json()) {
                kiln.env().out().println(Json.pretty(answer));
            } else {
                kiln.env().out().println(redriven(function, answer.path("redriven").asInt(), callIds.size()));
            }
            return Exit.OK;
        }
    }

    /** {@code Redrove 2 dead letters of f: ...}; with ids named, how many of them were dead letters. */
    static String redriven(String function, int n, int named) {
        String s = "Redrove " + Format.plural(n, "dead letter", "dead letters") + " of " + function;
        if (named > 0 && n < named) {
            s += " (" + (named - n) + " of the " + named + " calls named " + (named - n == 1 ? "is" : "are")
                    + " not a dead letter of " + function + ")";
        }
        return s + (n > 0 ? ": back in the queue with fresh attempts." : ".");
    }

    static String table(String function, JsonNode all) {
        JsonNode letters = all.path("deadLetters");
        if (letters.isEmpty()) {
            return "No dead letters for " + function + ".\n";
        }
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode d : letters) {
            JsonNode error = d.path("error");
            String err = error.isObject() ? error.path("code").asText() + ": " + error.path("message").asText() : "-";
            rows.add(List.of(d.path("callId").asText(), d.path("finishedAt").asText("-"),
                    d.path("attempts").asText(), shorten(printable(err), MESSAGE),
                    preview(Base64.getDecoder().decode(d.path("inputBase64").asText("")))));
        }
        return Format.table(List.of("CALL ID", "FAILED", "ATTEMPTS", "ERROR", "INPUT"), rows);
    }

    /**
     * The input's first {@link #PREVIEW} characters, control characters as {@code .}, {@code …}
     * when there is more; {@code (empty)}, or {@code (binary, 1.2 KiB)} for bytes that are not UTF-8.
     */
    static String preview(byte[] input) {
        if (input.length == 0) {
            return "(empty)";
        }
        String text = Format.utf8(input);
        if (text == null || text.indexOf('\0') >= 0) {
            return "(binary, " + Format.bytes(input.length) + ")";
        }
        return shorten(printable(text), PREVIEW);
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            if (Character.isISOControl(c) || Character.getType(c) == Character.FORMAT) {
                sb.append('.');
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.toString();
    }

    private static String shorten(String s, int max) {
        if (s.codePointCount(0, s.length()) <= max) {
            return s;
        }
        return s.substring(0, s.offsetByCodePoints(0, max)) + "…";
    }
}
