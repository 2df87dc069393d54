package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.util.List;
import java.util.concurrent.Callable;

/** {@code kiln schedule add|ls|rm}: schedules that enqueue a function's calls (docs/API.md, "Schedules"). */
@Command(name = "schedule", usageHelpAutoWidth = true,
        header = "Run a function on a schedule: a cron expression in an explicit time zone, a rate, or once.",
        description = {"Each fire time enqueues one async call (never a synchronous one) and fires exactly once,"
                + " across restarts and nodes; the call is delivered at least once, with the function's retries.",
                "A cron schedule always names its time zone; none is ever implied."},
        subcommands = {ScheduleCommand.Add.class, ScheduleCommand.Ls.class, ScheduleCommand.Rm.class},
        footerHeading = "%nExamples:%n",
        footer = {"  kiln schedule add nightly --function report --cron '30 2 * * *' --zone Europe/Berlin",
                "  kiln schedule add poll --function poller --rate 5m --input '{\"source\":\"feed\"}'",
                "  kiln schedule ls",
                "  kiln schedule rm nightly"})
final class ScheduleCommand implements Runnable {

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

    /** {@code kiln schedule add NAME ...}: PUT, so running it again with the same flags changes nothing. */
    @Command(name = "add", usageHelpAutoWidth = true,
            header = "Create a schedule, or replace the one of that name.",
            description = {"Give exactly one of --cron (with --zone), --rate or --at.",
                    "Repeating the same command keeps the schedule's progress (no fire time fires again);"
                            + " changing its times starts it afresh from now.",
                    "DST: a cron time that does not exist on a spring-forward day fires once, at the first instant"
                            + " after the gap; one that occurs twice on a fall-back day fires once, at its first"
                            + " occurrence (unless the hour field is *, which fires at both)."},
            footerHeading = "%nExamples:%n",
            footer = {"  kiln schedule add nightly --function report --cron '30 2 * * *' --zone Europe/Berlin",
                    "  kiln schedule add tick --function echo --rate 30s --overlap allow",
                    "  kiln schedule add launch --function mailer --at 2026-12-01T09:00:00+01:00",
                    "  kiln schedule add cleanup --function cleaner --cron '*/5 * * * *' --zone UTC"
                            + " --shape eventbridge --misfire skip"})
    static final class Add implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        HelpOption help;

        @ParentCommand
        ScheduleCommand parent;

        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "NAME",
                description = "The schedule's name: letters, digits, '.', '_' or '-'.")
        String name;

        @Option(names = "--function", required = true, paramLabel = "FUNCTION",
                description = "The deployed function each firing calls.")
        String function;

        @Option(names = "--cron", paramLabel = "EXPR",
                description = "A 5-field cron expression (minute hour day-of-month month day-of-week), or @daily etc.")
        String cron;

        @Option(names = "--zone", paramLabel = "ZONE",
                description = "The IANA time zone the cron expression (or a local --at) is in, e.g. Europe/Berlin or UTC.")
        String zone;

        @Option(names = "--rate", paramLabel = "EVERY", description = "Every 30s, 5m, 1h or 2d; first one period from now.")
        String rate;

        @Option(names = "--at", paramLabel = "ISO",
                description = "Once, at this ISO-8601 date-time (with an offset, or local with --zone).")
        String at;

        @Option(names = "--input", paramLabel = "TEXT", description = "The call's input (default: empty).")
        String input;

        @Option(names = "--overlap", paramLabel = "POLICY",
                description = "skip (default): no new call while the last one is queued or running; allow: call anyway.")
        String overlap;

        @Option(names = "--misfire", paramLabel = "POLICY",
                description = "After downtime: fire-once (default) fires the latest missed fire time once; skip fires none.")
        String misfire;

        @Option(names = "--shape", paramLabel = "SHAPE",
                description = "plain (default): --input as given; eventbridge: an EventBridge ScheduledEvent per fire time.")
        String shape;

        @Override
        public Integer call() {
            Kiln kiln = parent.kiln;
            ObjectNode body = body();
            KilnClient client = kiln.client();
            HttpResponse<byte[]> r = client.send(client.request("/v1/schedules/" + KilnClient.segment(name))
                    .header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(Json.line(body).strip())).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() == 404) {
                throw ServerErrors.noFunction(function);
            }
            JsonNode s = client.json(r, null);
            if (kiln.json()) {
                kiln.env().out().println(Json.pretty(s));
            } else {
                kiln.env().out().println((r.statusCode() == 201 ? "Created" : "Replaced") + " schedule " + name
                        + ": " + s.path("description").asText() + " → " + s.path("function").asText()
                        + "; next fire time " + s.path("nextFireAt").asText("none"));
            }
            return Exit.OK;
        }

        ObjectNode body() {
            List<String> kinds = new ArrayList<>();
            if (cron != null) {
                kinds.add("--cron");
            }
            if (rate != null) {
                kinds.add("--rate");
            }
            if (at != null) {
                kinds.add("--at");
            }
            if (kinds.size() != 1) {
                throw Kiln.usage(spec, "give exactly one of --cron (with --zone), --rate or --at"
                        + (kinds.isEmpty() ? "" : "; got " + String.join(" and ", kinds)));
            }
            if (cron != null && zone == null) {
                throw Kiln.usage(spec, "--cron needs --zone, an IANA time zone such as Europe/Berlin or UTC;"
                        + " none is ever implied");
            }
            ObjectNode b = Json.object().put("function", function);
            if (cron != null) {
                b.put("cron", cron);
            } else if (rate != null) {
                b.put("rate", rate);
            } else {
                b.put("at", at);
            }
            put(b, "zone", zone);
            put(b, "input", input);
            put(b, "overlap", overlap);
            put(b, "misfire", misfire);
            put(b, "shape", shape);
            return b;
        }

        private static void put(ObjectNode b, String field, String value) {
            if (value != null) {
                b.put(field, value);
            }
        }
    }

    /** {@code kiln schedule ls}. */
    @Command(name = "ls", aliases = "list", usageHelpAutoWidth = true,
            header = "List the schedules.",
            description = "A table: NAME FUNCTION SCHEDULE NEXT OVERLAP MISFIRE. --output json prints the server's"
                    + " {\"schedules\":[...]}.",
            footerHeading = "%nExamples:%n",
            footer = {"  kiln schedule ls", "  kiln schedule ls -o json | jq -r '.schedules[].name'"})
    static final class Ls implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        HelpOption help;

        @ParentCommand
        ScheduleCommand parent;

        @Override
        public Integer call() {
            Kiln kiln = parent.kiln;
            JsonNode all = kiln.client().getJson("/v1/schedules", null);
            if (kiln.json()) {
                kiln.env().out().println(Json.pretty(all));
            } else {
                kiln.env().out().print(table(all));
            }
            return Exit.OK;
        }

        static String table(JsonNode all) {
            JsonNode list = all.path("schedules");
            if (list.isEmpty()) {
                return "No schedules. Add one with: kiln schedule add NAME --function F --cron EXPR --zone ZONE\n";
            }
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode s : list) {
                rows.add(List.of(s.path("name").asText(), s.path("function").asText(), s.path("description").asText(),
                        s.path("nextFireAt").asText(s.path("enabled").asBoolean(true) ? "none" : "disabled"),
                        s.path("overlap").asText(), s.path("misfire").asText()));
            }
            return Format.table(List.of("NAME", "FUNCTION", "SCHEDULE", "NEXT", "OVERLAP", "MISFIRE"), rows);
        }
    }

    /** {@code kiln schedule rm NAME}. */
    @Command(name = "rm", aliases = "delete", usageHelpAutoWidth = true,
            header = "Delete a schedule and its firings' history.",
            description = "Calls it already enqueued still run. There is no confirmation and no undo.",
            footerHeading = "%nExamples:%n",
            footer = {"  kiln schedule rm nightly"})
    static final class Rm implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        HelpOption help;

        @ParentCommand
        ScheduleCommand parent;

        @Parameters(index = "0", paramLabel = "NAME", description = "The schedule to delete.")
        String name;

        @Override
        public Integer call() {
            Kiln kiln = parent.kiln;
            KilnClient client = kiln.client();
            HttpResponse<byte[]> r = client.send(client.request("/v1/schedules/" + KilnClient.segment(name))
                    .DELETE().build(), HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() == 404) {
                throw new CliException(Exit.NOT_FOUND, "No schedule named '" + name
                        + "'. `kiln schedule ls` lists them.");
            }
            if (r.statusCode() / 100 != 2) {
                throw ServerErrors.of(r.statusCode(), r.body(), client.settings(), null);
            }
            if (kiln.json()) {
                kiln.env().out().println(Json.pretty(Json.object().put("deleted", name)));
            } else {
                kiln.env().out().println("Deleted schedule " + name);
            }
            return Exit.OK;
        }
    }
}
