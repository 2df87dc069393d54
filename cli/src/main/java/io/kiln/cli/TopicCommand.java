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

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;

/** {@code kiln topic publish|subscribe|unsubscribe|ls}: CloudEvents topics and their subscriptions. */
@Command(name = "topic", usageHelpAutoWidth = true,
        header = "Publish CloudEvents to topics, and subscribe functions to them.",
        description = "A subscription binds a function to a topic, with an optional filter on the events'"
                + " attributes. Every matching subscription gets its own durable delivery of each event, retried"
                + " under its function's event policy (at least once).",
        subcommands = {TopicCommand.Publish.class, TopicCommand.Subscribe.class, TopicCommand.Unsubscribe.class,
                TopicCommand.ListTopics.class},
        footerHeading = "%nExamples:%n",
        footer = {"  kiln topic subscribe orders audit --function audit",
                "  kiln topic publish orders --type order.created --source /shop --data '{\"id\": 7}'",
                "  kiln topic ls"})
final class TopicCommand implements Runnable {

    @picocli.CommandLine.Mixin
    HelpOption help;

    @ParentCommand
    Kiln kiln;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static String path(String topic) {
        return "/v1/topics/" + KilnClient.segment(topic);
    }

    // ---- publish -------------------------------------------------------------------------

    @Command(name = "publish", usageHelpAutoWidth = true,
            header = "Publish one CloudEvents 1.0 event to a topic.",
            description = {"Sent in structured mode (the event as application/cloudevents+json) or, with --binary,"
                    + " in binary mode (ce-* headers, the data as the body). JSON data (the default content type)"
                    + " is inlined; other data from --data is a string, from --data-file base64.",
                    "Prints the deliveries: one queued call per matching subscription."},
            footerHeading = "%nExamples:%n",
            footer = {"  kiln topic publish orders --type order.created --source /shop --subject eu/7 --data"
                    + " '{\"id\": 7}'",
                    "  kiln topic publish orders --type order.cancelled --source /shop --data-file order.json --binary",
                    "  kiln topic publish notes --type note --source /cli --content-type text/plain --data hello"})
    static final class Publish implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        HelpOption help;

        @ParentCommand
        TopicCommand topic;

        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "TOPIC", description = "The topic.")
        String name;

        @Option(names = "--type", required = true, paramLabel = "TYPE", description = "The event's type.")
        String type;

        @Option(names = "--source", required = true, paramLabel = "URI", description = "The event's source.")
        String source;

        @Option(names = "--id", paramLabel = "ID", description = "The event's id (default: a random UUID).")
        String id;

        @Option(names = "--subject", paramLabel = "TEXT", description = "The event's subject.")
        String subject;

        @Option(names = "--ext", paramLabel = "NAME=VALUE", description = "An extension attribute; repeatable.")
        List<String> extensions = new ArrayList<>();

        @Option(names = "--content-type", paramLabel = "TYPE", defaultValue = "application/json",
                description = "The data's content type (default: ${DEFAULT-VALUE}).")
        String contentType;

        @ArgGroup(exclusive = true)
        Data data;

        static final class Data {
            @Option(names = "--data", paramLabel = "TEXT", description = "The data.")
            String text;

            @Option(names = "--data-file", paramLabel = "FILE", description = "The data, from a file.")
            Path file;
        }

        @Option(names = "--binary", description = "Binary mode: ce-* headers, the data as the body.")
        boolean binary;

        @Override
        public Integer call() {
            if (id == null) {
                id = UUID.randomUUID().toString();
            }
            Map<String, String> ext = extensions(spec, extensions);
            byte[] bytes = data == null ? null : data.file != null ? read(data.file)
                    : data.text.getBytes(StandardCharsets.UTF_8);
            boolean json = isJson(contentType);
            if (bytes != null && json && Json.parse(bytes) == null) {
                throw Kiln.usage(spec, "The data is not JSON, but its content type is " + contentType
                        + "; pass --content-type for other data.");
            }
            KilnClient client = topic.kiln.client();
            HttpRequest.Builder r = client.request(path(name));
            if (binary) {
                r.header("ce-specversion", "1.0").header("ce-id", enc(id)).header("ce-source", enc(source))
                        .header("ce-type", enc(type));
                if (subject != null) {
                    r.header("ce-subject", enc(subject));
                }
                ext.forEach((k, v) -> r.header("ce-" + k, enc(v)));
                if (bytes != null) {
                    r.header("Content-Type", contentType);
                }
                r.POST(bytes == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(bytes));
            } else {
                ObjectNode e = Json.object().put("specversion", "1.0").put("id", id).put("source", source)
                        .put("type", type);
                if (subject != null) {
                    e.put("subject", subject);
                }
                ext.forEach(e::put);
                if (bytes != null) {
                    e.put("datacontenttype", contentType);
                    if (json) {
                        // As typed (checked above): parsing and writing it again could round 34.00 to 34.0.
                        e.putRawValue("data", new com.fasterxml.jackson.databind.util.RawValue(
                                new String(bytes, StandardCharsets.UTF_8).strip()));
                    } else if (data.text != null) {
                        e.put("data", data.text);
                    } else {
                        e.put("data_base64", Base64.getEncoder().encodeToString(bytes));
                    }
                }
                r.header("Content-Type", "application/cloudevents+json")
                        .POST(HttpRequest.BodyPublishers.ofString(e.toString()));
            }
            JsonNode reply = client.json(client.send(r.build(), HttpResponse.BodyHandlers.ofByteArray()), null);
            Kiln kiln = topic.kiln;
            if (kiln.json()) {
                kiln.env().out().println(Json.pretty(reply));
            } else {
                List<String> calls = new ArrayList<>();
                reply.path("callIds").forEach(c -> calls.add(c.asText()));
                int n = reply.path("deliveries").asInt();
                kiln.env().out().println("Published " + reply.path("eventId").asText() + " to " + name + ": " + n
                        + (n == 1 ? " delivery" : " deliveries") + (calls.isEmpty() ? " (no subscription matched)"
                        : " (calls " + String.join(", ", calls) + ")"));
            }
            return Exit.OK;
        }

        static boolean isJson(String contentType) {
            String t = contentType.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
            return t.equals("application/json") || t.equals("text/json") || t.endsWith("+json");
        }

        /** Binary mode's header values are percent-encoded where HTTP or the spec need it. */
        static String enc(String v) {
            StringBuilder sb = new StringBuilder();
            for (byte b : v.getBytes(StandardCharsets.UTF_8)) {
                int c = b & 0xff;
                if (c <= 0x20 || c >= 0x7f || c == '"' || c == '%') {
                    sb.append('%').append(String.format("%02X", c));
                } else {
                    sb.append((char) c);
                }
            }
            return sb.toString();
        }

        private byte[] read(Path f) {
            try {
                return Files.readAllBytes(f);
            } catch (IOException e) {
                throw new CliException(Exit.USAGE, "Cannot read " + f + ": " + e.getMessage());
            }
        }
    }

    static Map<String, String> extensions(CommandSpec spec, List<String> entries) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String e : entries) {
            int eq = e.indexOf('=');
            if (eq <= 0) {
                throw Kiln.usage(spec, "--ext must be NAME=VALUE, got '" + e + "'");
            }
            out.put(e.substring(0, eq), e.substring(eq + 1));
        }
        return out;
    }

    // ---- subscribe -----------------------------------------------------------------------

    @Command(name = "subscribe", usageHelpAutoWidth = true,
            header = "Subscribe a function to a topic (or replace the subscription of that name).",
            description = {"Filters: ATTR=VALUE matches an attribute exactly, ATTR^=PREFIX by prefix; all must"
                    + " match. Attributes are CloudEvents names: type, source, subject, or an extension.",
                    "Shapes: plain (the default) calls the function once per event with the event as CloudEvents"
                    + " JSON; sqs calls it with an AWS SQSEvent of up to --batch-size events and honours an"
                    + " SQSBatchResponse's partial failures."},
            footerHeading = "%nExamples:%n",
            footer = {"  kiln topic subscribe orders audit --function audit",
                    "  kiln topic subscribe orders refunds --function refunds --filter type=order.cancelled"
                            + " --filter 'subject^=eu/'",
                    "  kiln topic subscribe orders batch --function sqs-handler --shape sqs --batch-size 10"
                            + " --batch-window 5s"})
    static final class Subscribe implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        HelpOption help;

        @ParentCommand
        TopicCommand topic;

        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "TOPIC", description = "The topic.")
        String name;

        @Parameters(index = "1", paramLabel = "NAME", description = "The subscription's name.")
        String subscription;

        @Option(names = "--function", required = true, paramLabel = "FUNCTION", description = "The function to call.")
        String function;

        @Option(names = "--filter", paramLabel = "ATTR=VALUE|ATTR^=PREFIX", description = "A condition; repeatable.")
        List<String> filters = new ArrayList<>();

        @Option(names = "--shape", paramLabel = "plain|sqs", description = "What the function receives (default:"
                + " plain).")
        String shape;

        @Option(names = "--batch-size", paramLabel = "N", description = "sqs: events per call, 1 to 10 (default 10).")
        Integer batchSize;

        @Option(names = "--batch-window", paramLabel = "DURATION", description = "sqs: how long a batch waits for"
                + " more events, like 500ms or 5s (default 0).")
        String batchWindow;

        ObjectNode body() {
            ObjectNode b = Json.object().put("function", function);
            ObjectNode f = b.putObject("filters");
            for (String c : filters) {
                int eq = c.indexOf('=');
                boolean prefix = eq > 0 && c.charAt(eq - 1) == '^';
                String attr = eq <= 0 ? "" : c.substring(0, prefix ? eq - 1 : eq);
                if (attr.isEmpty()) {
                    throw Kiln.usage(spec, "--filter must be ATTR=VALUE or ATTR^=PREFIX, got '" + c + "'");
                }
                if (f.has(attr)) {
                    throw Kiln.usage(spec, "--filter names " + attr + " twice");
                }
                if (prefix) {
                    f.putObject(attr).put("prefix", c.substring(eq + 1));
                } else {
                    f.put(attr, c.substring(eq + 1));
                }
            }
            if (shape != null) {
                b.put("shape", shape);
            }
            if (batchSize != null) {
                b.put("batchSize", batchSize);
            }
            if (batchWindow != null) {
                b.put("batchWindow", batchWindow);
            }
            return b;
        }

        @Override
        public Integer call() {
            KilnClient client = topic.kiln.client();
            HttpResponse<byte[]> r = client.send(client.request(path(name) + "/subscriptions/"
                    + KilnClient.segment(subscription)).header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(body().toString())).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            JsonNode s = client.json(r, null);
            Kiln kiln = topic.kiln;
            if (kiln.json()) {
                kiln.env().out().println(Json.pretty(s));
            } else {
                kiln.env().out().println((r.statusCode() == 201 ? "Created" : "Replaced") + " subscription "
                        + subscription + " of topic " + name + ": " + describe(s));
            }
            return Exit.OK;
        }
    }

    /** {@code function audit, every event, plain} */
    static String describe(JsonNode s) {
        String shape = s.path("shape").asText();
        if (shape.equals("sqs")) {
            shape = "sqs (batches of up to " + s.path("batchSize").asText() + ", window "
                    + s.path("batchWindow").asText() + ")";
        }
        return "function " + s.path("function").asText() + ", " + filters(s.path("filters")) + ", " + shape;
    }

    /** {@code type=order.cancelled subject^=eu/}, or {@code every event}. */
    static String filters(JsonNode f) {
        List<String> out = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = f.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> c = it.next();
            out.add(c.getValue().isTextual() ? c.getKey() + "=" + c.getValue().asText()
                    : c.getKey() + "^=" + c.getValue().path("prefix").asText());
        }
        return out.isEmpty() ? "every event" : String.join(" ", out);
    }

    // ---- unsubscribe ---------------------------------------------------------------------

    @Command(name = "unsubscribe", usageHelpAutoWidth = true,
            header = "Delete a subscription; its deliveries not yet started are cancelled.",
            footerHeading = "%nExamples:%n",
            footer = {"  kiln topic unsubscribe orders audit"})
    static final class Unsubscribe implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        HelpOption help;

        @ParentCommand
        TopicCommand topic;

        @Parameters(index = "0", paramLabel = "TOPIC", description = "The topic.")
        String name;

        @Parameters(index = "1", paramLabel = "NAME", description = "The subscription's name.")
        String subscription;

        @Override
        public Integer call() {
            KilnClient client = topic.kiln.client();
            JsonNode r = client.json(client.send(client.request(path(name) + "/subscriptions/"
                    + KilnClient.segment(subscription)).DELETE().build(), HttpResponse.BodyHandlers.ofByteArray()),
                    null);
            Kiln kiln = topic.kiln;
            if (kiln.json()) {
                kiln.env().out().println(Json.pretty(r));
            } else {
                kiln.env().out().println("Deleted subscription " + subscription + " of topic " + name + " ("
                        + r.path("cancelledDeliveries").asInt() + " waiting deliveries cancelled)");
            }
            return Exit.OK;
        }
    }

    // ---- ls ------------------------------------------------------------------------------

    @Command(name = "ls", aliases = "list", usageHelpAutoWidth = true,
            header = "List topics and their subscriptions.",
            description = "A table: TOPIC SUBSCRIPTION FUNCTION FILTER SHAPE. --output json prints the server's"
                    + " {\"topics\":[...]}.",
            footerHeading = "%nExamples:%n",
            footer = {"  kiln topic ls", "  kiln topic ls -o json | jq '.topics[].topic'"})
    static final class ListTopics implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        HelpOption help;

        @ParentCommand
        TopicCommand topic;

        @Override
        public Integer call() {
            Kiln kiln = topic.kiln;
            JsonNode all = kiln.client().getJson("/v1/topics", null);
            if (kiln.json()) {
                kiln.env().out().println(Json.pretty(all));
            } else {
                kiln.env().out().print(table(all));
            }
            return Exit.OK;
        }

        static String table(JsonNode all) {
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode t : all.path("topics")) {
                for (JsonNode s : t.path("subscriptions")) {
                    String shape = s.path("shape").asText();
                    rows.add(List.of(t.path("topic").asText(), s.path("name").asText(), s.path("function").asText(),
                            filters(s.path("filters")), shape.equals("sqs") ? "sqs/" + s.path("batchSize").asText()
                                    : shape));
                }
            }
            if (rows.isEmpty()) {
                return "No subscriptions. Add one with: kiln topic subscribe TOPIC NAME --function FUNCTION\n";
            }
            return Format.table(List.of("TOPIC", "SUBSCRIPTION", "FUNCTION", "FILTER", "SHAPE"), rows);
        }
    }
}
