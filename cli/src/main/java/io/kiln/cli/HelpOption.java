package io.kiln.cli;

import picocli.CommandLine.Option;

/** {@code -h, --help} on every subcommand (the version flag stays on {@code kiln} itself). */
final class HelpOption {

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;
}
