package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code kiln describe NAME}. */
@Command(name = "describe", usageHelpAutoWidth = true,
        header = "Show one function: its version, configuration, jar, instances and past versions.",
        description = {"Environment values are shown as *** unless --show-env asks for them.",
                "--output json prints the server's description as it is."},
        footerHeading = "%nExamples:%n",
        footer = {"  kiln describe hello", "  kiln describe hello --show-env", "  kiln describe hello -o json | jq .config"})
final class DescribeCommand implements Callable<Integer> {

    @picocli.CommandLine.Mixin
    HelpOption help;

    @ParentCommand
    Kiln kiln;

    @Parameters(index = "0", paramLabel = "NAME", description = "The function.")
    String name;

    @picocli.CommandLine.Option(names = "--show-env",
            description = "Show the environment's values (masked as *** otherwise: they are often secrets).")
    boolean showEnv;

    @Override
    public Integer call() {
        JsonNode fn = kiln.client().getJson("/v1/functions/" + KilnClient.segment(name)
                + (showEnv ? "?reveal=env" : ""), name);
        CliEnv e = kiln.env();
        if (kiln.json()) {
            e.out().println(Json.pretty(fn));
        } else {
            e.out().print(text(fn, kiln.settings().url().toString()));
        }
        return Exit.OK;
    }

    static String text(JsonNode fn, String server) {
        JsonNode c = fn.path("config");
        JsonNode s = fn.path("state");
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"handler", fn.path("handler").asText()});
        rows.add(new String[]{"url", server + fn.path("url").asText("/function/" + fn.path("name").asText())
                + (c.path("public").asBoolean() ? "  (public: no token needed)" : "  (needs the token)")});
        rows.add(new String[]{"created", fn.path("createdAt").asText()});
        rows.add(new String[]{"jar", Format.bytes(fn.path("jar").path("size").asLong()) + ", sha256 "
                + fn.path("jar").path("sha256").asText()});
        rows.add(new String[]{"memory", c.path("memoryMib").asText() + " MiB"});
        rows.add(new String[]{"timeout", Format.millis(c.path("timeoutMs").asLong())});
        rows.add(new String[]{"keep-alive", Format.millis(c.path("keepAliveMs").asLong())});
        rows.add(new String[]{"concurrency", c.path("maxConcurrency").asText() + " calls at once"});
        rows.add(new String[]{"instances", "min " + c.path("minInstances").asText() + ", max "
                + c.path("maxInstances").asText()});
        List<String> env = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = c.path("env").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> v = it.next();
            env.add(v.getKey() + "=" + v.getValue().asText());
        }
        rows.add(new String[]{"env", env.isEmpty() ? "(none)" : String.join(" ", env)});
        JsonNode ev = c.path("events");
        if (ev.isObject()) {
            rows.addAll(events(ev));
        }
        rows.add(new String[]{"now", s.path("live").asText("0") + " live, " + s.path("idle").asText("0") + " idle, "
                + s.path("inFlight").asText("0") + " in flight, " + s.path("queued").asText("0") + " queued"});
        List<String> versions = new ArrayList<>();
        for (JsonNode v : fn.path("versions")) {
            versions.add(v.path("version").asText() + " (" + v.path("createdAt").asText() + ")");
        }
        rows.add(new String[]{"versions", versions.isEmpty() ? "-" : String.join(", ", versions)});

        StringBuilder sb = new StringBuilder();
        sb.append(fn.path("name").asText()).append("  version ").append(fn.path("version").asText()).append('\n');
        for (String[] r : rows) {
            sb.append(String.format("  %-12s %s%n", r[0], r[1]));
        }
        return sb.toString();
    }

    /**
     * The event policy ({@code config.events}): what happens to a queued call (async, schedule,
     * topic, job) that fails. A server from before the policy has no {@code events}: no rows.
     */
    static List<String[]> events(JsonNode ev) {
        List<String[]> rows = new ArrayList<>();
        int retries = ev.path("maxRetries").asInt();
        rows.add(new String[]{"retries", retries == 0 ? "0 (a failed event-driven call is dead-lettered at once)"
                : retries + ", backoff " + Format.millis(ev.path("retryBackoffMs").asLong()) + " doubling up to "
                + Format.millis(ev.path("maxRetryBackoffMs").asLong()) + " (with jitter)"});
        long age = ev.path("maxEventAgeMs").asLong();
        rows.add(new String[]{"event age", age == 0 ? "no limit" : "at most " + Format.millis(age)});
        rows.add(new String[]{"on-success", ev.path("onSuccess").asText("-")});
        rows.add(new String[]{"on-failure", ev.path("onFailure").asText("-")});
        return rows;
    }
}
