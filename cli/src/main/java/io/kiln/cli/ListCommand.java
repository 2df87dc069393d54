package io.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code kiln ls}. */
@Command(name = "ls", aliases = "list", usageHelpAutoWidth = true,
        header = "List the deployed functions.",
        description = "A table: NAME VERSION HANDLER MEMORY LIVE IDLE (LIVE counts the function's instances, IDLE "
                + "those waiting for a call). --output json prints the server's {\"functions\":[...]}.",
        footerHeading = "%nExamples:%n",
        footer = {"  kiln ls", "  kiln ls -o json | jq -r '.functions[].name'"})
final class ListCommand implements Callable<Integer> {

    @picocli.CommandLine.Mixin
    HelpOption help;

    @ParentCommand
    Kiln kiln;

    @Override
    public Integer call() {
        JsonNode all = kiln.client().getJson("/v1/functions", null);
        CliEnv e = kiln.env();
        if (kiln.json()) {
            e.out().println(Json.pretty(all));
        } else {
            e.out().print(table(all));
        }
        return Exit.OK;
    }

    static String table(JsonNode all) {
        JsonNode fns = all.path("functions");
        if (fns.isEmpty()) {
            return "No functions deployed. Deploy one with: kiln deploy NAME --jar FILE --handler CLASS\n";
        }
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode f : fns) {
            rows.add(List.of(f.path("name").asText(), f.path("version").asText(), f.path("handler").asText(),
                    f.path("config").path("memoryMib").asText("?") + " MiB", f.path("state").path("live").asText("0"),
                    f.path("state").path("idle").asText("0")));
        }
        return Format.table(List.of("NAME", "VERSION", "HANDLER", "MEMORY", "LIVE", "IDLE"), rows);
    }
}
