package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code kiln info}. */
@Command(name = "info", usageHelpAutoWidth = true,
        header = "Show the server, the engine it runs functions on and why, KVM, and the warm pool.",
        description = {
            "Says whether functions are isolated: the process engine (for development) runs them as plain "
                    + "processes, NOT isolated from each other or the host. Also shows where the URL and the token "
                    + "came from.",
            "--output json prints the server's /healthz answer as it is.",
        },
        footerHeading = "%nExamples:%n",
        footer = {"  kiln info", "  kiln info -o json | jq .engine"})
final class InfoCommand implements Callable<Integer> {

    @picocli.CommandLine.Mixin
    HelpOption help;

    @ParentCommand
    Kiln kiln;

    @Override
    public Integer call() {
        KilnClient client = kiln.client();
        HttpResponse<byte[]> r = client.send(client.request("/healthz").GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        // 503 is a server shutting down: still an answer worth showing.
        JsonNode health = r.statusCode() == 503 && Json.parse(r.body()) != null ? Json.parse(r.body())
                : client.json(r, null);
        if (kiln.json()) {
            kiln.env().out().println(Json.pretty(health));
        } else {
            kiln.env().out().print(text(health, kiln.settings()));
        }
        return Exit.OK;
    }

    static String text(JsonNode h, Settings s) {
        StringBuilder sb = new StringBuilder();
        row(sb, "server", s.url() + "  (" + h.path("status").asText("?") + "; url from " + s.urlSource() + ")");
        row(sb, "token", s.token() == null ? "none" : "from " + s.tokenSource());
        JsonNode engine = h.path("engine");
        boolean isolated = engine.path("isolated").asBoolean(false);
        row(sb, "engine", engine.path("name").asText("?") + " — " + (isolated ? "isolated: each instance in its own "
                + "microVM" : "NOT isolated: functions run as plain processes on the host"));
        if (engine.hasNonNull("reason")) {
            row(sb, "", "why: " + engine.path("reason").asText());
        }
        JsonNode kvm = h.path("kvm");
        row(sb, "kvm", kvm.path("kind").asText("?") + (kvm.hasNonNull("reason") ? " — " + kvm.path("reason").asText() : ""));
        JsonNode jail = h.path("jail");
        if (jail.isObject()) { // a server from before jails says nothing about them
            row(sb, "jail", (jail.path("enabled").asBoolean(false) ? "on (cgroup " + jail.path("cgroup").asText("?")
                    + "): each VM's VMM in its function's jail" : "off") + " — " + jail.path("why").asText("?"));
        }
        row(sb, "pool", pool(h.path("pool")));
        row(sb, "functions", h.path("functions").asText("?"));
        JsonNode nodes = h.path("nodes");
        if (nodes.isArray() && nodes.size() > 0) {
            row(sb, "node", h.path("node").asText("?") + (nodes.size() == 1 ? " (a single node)"
                    : " (one of " + nodes.size() + " nodes sharing " + h.path("queue").path("store").asText("?") + ")"));
            if (nodes.size() > 1) {
                sb.append(nodesTable(nodes));
            }
        }
        return sb.toString();
    }

    /** The cluster's nodes: one row each with its state, engine, heartbeat age and load. */
    static String nodesTable(JsonNode nodes) {
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode n : nodes) {
            JsonNode load = n.path("load");
            rows.add(List.of(n.path("node").asText() + (n.path("self").asBoolean() ? " *" : ""),
                    n.path("state").asText("?") + (n.path("live").asBoolean() ? "" : " (not routed to)"),
                    n.path("engine").asText("?"), n.path("url").asText("-"),
                    n.has("heartbeatAgeMs") ? Format.millis(n.path("heartbeatAgeMs").asLong()) + " ago" : "-",
                    load.path("callsInFlight").asText("?") + " in flight, " + load.path("liveInstances").asText("?")
                            + " instances, " + load.path("memoryReservedMib").asText("?") + "/"
                            + load.path("memoryBudgetMib").asText("?") + " MiB"));
        }
        return Format.table(List.of("NODE", "STATE", "ENGINE", "URL", "HEARTBEAT", "LOAD"), rows);
    }

    private static void row(StringBuilder sb, String key, String value) {
        sb.append(String.format("%-10s %s%n", key, value));
    }

    /** {@code 2 live instances, 1 call in flight, 0 queued; memory 512 MiB reserved, 256 MiB idle of 4096 MiB}. */
    static String pool(JsonNode p) {
        if (!p.has("liveInstances") || !p.has("budgetMib")) {
            return fields(p);
        }
        return Format.plural(p.path("liveInstances").asLong(), "live instance", "live instances") + ", "
                + Format.plural(p.path("inFlight").asLong(), "call", "calls") + " in flight, "
                + p.path("queued").asLong() + " queued; memory " + p.path("reservedMib").asLong() + " MiB reserved, "
                + p.path("idleMib").asLong() + " MiB idle, of " + p.path("budgetMib").asLong() + " MiB";
    }

    /** {@code a 1, b 2} from an object's scalar fields (nested objects flattened as {@code x.y}). */
    static String fields(JsonNode o) {
        List<String> parts = new ArrayList<>();
        flatten("", o, parts);
        return parts.isEmpty() ? "-" : String.join(", ", parts);
    }

    private static void flatten(String prefix, JsonNode o, List<String> parts) {
        for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getValue().isObject()) {
                flatten(prefix + f.getKey() + ".", f.getValue(), parts);
            } else {
                parts.add(prefix + f.getKey() + " " + f.getValue().asText());
            }
        }
    }
}
