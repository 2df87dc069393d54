package io.kiln.cli;

import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code kiln completion bash}. */
@Command(name = "completion", usageHelpAutoWidth = true,
        header = "Print a shell completion script (bash; zsh through bashcompinit).",
        footerHeading = "%nExamples:%n",
        footer = {
            "  source <(kiln completion bash)       # this shell only",
            "  kiln completion bash > \\",
            "      ~/.local/share/bash-completion/completions/kiln",
            "  # zsh:",
            "  autoload -U +X bashcompinit && bashcompinit",
            "  source <(kiln completion zsh)",
        })
final class CompletionCommand implements Callable<Integer> {

    @picocli.CommandLine.Mixin
    HelpOption help;

    @ParentCommand
    Kiln kiln;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SHELL", arity = "0..1", defaultValue = "bash",
            description = "bash (the default) or zsh.")
    String shell;

    @Override
    public Integer call() {
        if (!shell.equals("bash") && !shell.equals("zsh")) {
            throw Kiln.usage(spec, "completion scripts exist for bash and zsh, not '" + shell + "'");
        }
        kiln.env().out().print(AutoComplete.bash("kiln", spec.root().commandLine()));
        kiln.env().out().flush();
        return Exit.OK;
    }
}
