package io.kiln.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.net.http.HttpResponse;
import java.util.concurrent.Callable;

/** {@code kiln rm NAME}. */
@Command(name = "rm", aliases = "delete", usageHelpAutoWidth = true,
        header = "Delete a function and all its versions.",
        description = "Calls already running finish; queued ones fail. There is no confirmation and no undo.",
        footerHeading = "%nExamples:%n",
        footer = {"  kiln rm hello"})
final class RemoveCommand implements Callable<Integer> {

    @picocli.CommandLine.Mixin
    HelpOption help;

    @ParentCommand
    Kiln kiln;

    @Parameters(index = "0", paramLabel = "NAME", description = "The function to delete.")
    String name;

    @Override
    public Integer call() {
        KilnClient client = kiln.client();
        HttpResponse<byte[]> r = client.send(client.request("/v1/functions/" + KilnClient.segment(name))
                .DELETE().build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() / 100 != 2) {
            throw ServerErrors.of(r.statusCode(), r.body(), client.settings(), name);
        }
        if (kiln.json()) {
            kiln.env().out().println(Json.pretty(Json.object().put("deleted", name)));
        } else {
            kiln.env().out().println("Deleted " + name);
        }
        return Exit.OK;
    }
}
