package io.kiln.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * {@code kiln}: the top command. It holds the options every subcommand shares ({@code --url},
 * {@code --token}, {@code --output}) and the {@link CliEnv} they run in; subcommands reach both
 * through {@code @ParentCommand}.
 */
@Command(name = "kiln",
        mixinStandardHelpOptions = true,
        versionProvider = Kiln.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        header = "Deploy and call Java functions on a Kiln server.",
        description = {
            "The server is --url, else KILN_URL, else `url` in ~/.config/kiln/config (written by `kiln login`), "
                    + "else " + Settings.DEFAULT_URL + ".",
            "The token is --token, else KILN_TOKEN, else `token` in that file, else for a server on this machine "
                    + "the one the server keeps in its data directory ($KILN_DATA/token, default "
                    + "~/.local/share/kiln/token), so after ./run.sh no login is needed.",
        },
        subcommands = {
            InitCommand.class,
            DeployCommand.class,
            InvokeCommand.class,
            ListCommand.class,
            DescribeCommand.class,
            LogsCommand.class,
            JobsCommand.class,
            RemoveCommand.class,
            DeadLettersCommand.class,
            ScheduleCommand.class,
            TopicCommand.class,
            InfoCommand.class,
            LoginCommand.class,
            CompletionCommand.class,
            CommandLine.HelpCommand.class,
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  kiln init hello && cd hello && mvn package",
            "  kiln deploy hello --project . --handler com.example.hello.Hello",
            "  kiln invoke hello --data 'Ada'",
            "  kiln ls",
            "  kiln logs hello -f",
            "  kiln --output json describe hello | jq .version",
            "",
            "`kiln help COMMAND` or `kiln COMMAND --help` explains each command. docs/CLI.md has the rest.",
        })
public final class Kiln implements Runnable {

    /** How results are printed. */
    public enum Output { text, json }

    @Option(names = "--url", scope = ScopeType.INHERIT, paramLabel = "URL",
            description = "The Kiln server, like " + Settings.DEFAULT_URL + " (overrides KILN_URL and the config file).")
    String url;

    @Option(names = "--token", scope = ScopeType.INHERIT, paramLabel = "TOKEN",
            description = "The management token (overrides KILN_TOKEN and the config file).")
    String token;

    @Option(names = {"-o", "--output"}, scope = ScopeType.INHERIT, paramLabel = "FORMAT",
            description = "text (for people, the default) or json (for scripts).")
    Output output = Output.text;

    @Spec
    CommandSpec spec;

    private final CliEnv env;
    private Settings settings;
    private KilnClient client;

    public Kiln(CliEnv env) {
        this.env = env;
    }

    /** Runs {@code kiln args...} in {@code env}; the exit code. */
    public static int run(CliEnv env, String... args) {
        CommandLine cl = commandLine(env);
        return cl.execute(args);
    }

    public static CommandLine commandLine(CliEnv env) {
        CommandLine cl = new CommandLine(new Kiln(env));
        cl.setOut(new PrintWriter(new OutputStreamWriter(env.out(), StandardCharsets.UTF_8), true));
        cl.setErr(new PrintWriter(new OutputStreamWriter(env.err(), StandardCharsets.UTF_8), true));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        exitCodes(cl);
        cl.setColorScheme(CommandLine.Help.defaultColorScheme(
                env.outTty() && env.var("NO_COLOR") == null ? CommandLine.Help.Ansi.AUTO : CommandLine.Help.Ansi.OFF));
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine cmd = ex.getCommandLine();
            PrintWriter err = cmd.getErr();
            err.println(ex.getMessage());
            if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, err)) {
                err.println("Usage: " + cmd.getHelp().synopsis(0).strip().replace("\n", "\n       "));
            }
            err.println("Run '" + cmd.getCommandSpec().qualifiedName() + " --help' for more.");
            err.flush();
            return Exit.USAGE;
        });
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            env.out().flush();
            if (e instanceof CliException c) {
                env.err().println(c.getMessage());
                return c.exitCode();
            }
            if (e instanceof KilnClient.Interrupted) {
                return Exit.OK;
            }
            if (e instanceof CommandLine.ParameterException p) {
                throw p;
            }
            env.err().println("kiln: unexpected error: " + e);
            if (env.var("KILN_DEBUG") != null) {
                e.printStackTrace(env.err());
            } else {
                env.err().println("(set KILN_DEBUG=1 for the stack trace)");
            }
            return Exit.FAILED;
        });
        return cl;
    }

    /** The exit codes section on every command's help page (one list, {@link Exit#HELP}). */
    private static void exitCodes(CommandLine cl) {
        java.util.Map<String, String> codes = new java.util.LinkedHashMap<>();
        for (String line : Exit.HELP) {
            int colon = line.indexOf(':');
            codes.put(line.substring(0, colon), line.substring(colon + 1));
        }
        cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(codes);
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (!sub.getCommandName().equals("help") && !sub.getCommandName().equals("completion")) {
                exitCodes(sub);
            }
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public CliEnv env() {
        return env;
    }

    public Output output() {
        return output;
    }

    public boolean json() {
        return output == Output.json;
    }

    /** The server and token, resolved once per command. */
    public Settings settings() {
        if (settings == null) {
            settings = Settings.resolve(env, url, token);
        }
        return settings;
    }

    public KilnClient client() {
        if (client == null) {
            client = new KilnClient(settings());
        }
        return client;
    }

    /** A usage error about {@code cmd}: printed with its usage, exit 2. */
    public static CommandLine.ParameterException usage(CommandSpec cmd, String message) {
        return new CommandLine.ParameterException(cmd.commandLine(), message);
    }

    static String version() {
        String v = Kiln.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[]{"kiln " + version() + " (Java " + System.getProperty("java.version") + ")"};
        }
    }
}
