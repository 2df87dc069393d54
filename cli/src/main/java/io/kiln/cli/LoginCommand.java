package io.kiln.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code kiln login [--url U] [--token T | --token-file F | the token on stdin]}. */
@Command(name = "login", sortOptions = false, usageHelpAutoWidth = true,
        header = "Check a server URL and token, and save them for later commands.",
        description = {
            "The token is --token, else the first line of --token-file, else read from stdin (asked for, hidden, on "
                    + "a terminal). It is checked against the server (listing the functions) and only then saved, with "
                    + "the URL, in ~/.config/kiln/config ($XDG_CONFIG_HOME/kiln/config), mode 0600.",
            "The server prints its token when it first starts and keeps it in <data dir>/token. Against a server on "
                    + "this machine no login is needed: the token is read from there.",
        },
        footerHeading = "%nExamples:%n",
        footer = {
            "  kiln login --url https://kiln.example.com --token-file ~/kiln-token",
            "  ssh kiln-host cat .local/share/kiln/token \\",
            "      | kiln login --url http://kiln-host:8080",
        })
final class LoginCommand implements Callable<Integer> {

    @picocli.CommandLine.Mixin
    HelpOption help;

    @ParentCommand
    Kiln kiln;

    @Spec
    CommandSpec spec;

    @Option(names = "--token-file", paramLabel = "FILE", description = "A file whose first line is the token.")
    String tokenFile;

    @Override
    public Integer call() {
        CliEnv e = kiln.env();
        if (kiln.token != null && tokenFile != null) {
            throw Kiln.usage(spec, "give the token with --token or --token-file, not both");
        }
        String token = token(e);
        if (token == null || token.isBlank()) {
            throw Kiln.usage(spec, "no token: pass --token, --token-file, or the token on stdin");
        }
        Settings given = Settings.resolve(e, kiln.url, token);
        Settings s = new Settings(given.url(), given.urlSource(), token.strip(), "login");
        new KilnClient(s).getJson("/v1/functions", null); // a 401 or an unreachable server stops here
        Path config = ConfigFile.path(e);
        Map<String, String> values = new LinkedHashMap<>(ConfigFile.read(config));
        values.put(ConfigFile.URL, s.url().toString());
        values.put(ConfigFile.TOKEN, s.token());
        ConfigFile.write(config, values);
        if (kiln.json()) {
            e.out().println(Json.pretty(Json.object().put("url", s.url().toString()).put("config", config.toString())));
        } else {
            e.out().println("Logged in to " + s.url() + ". Saved the URL and token in " + config + ".");
        }
        return Exit.OK;
    }

    private String token(CliEnv e) {
        if (kiln.token != null) {
            return kiln.token;
        }
        if (tokenFile != null) {
            Path f = e.path(tokenFile);
            try {
                return Files.readAllLines(f, StandardCharsets.UTF_8).stream().findFirst().orElse(null);
            } catch (IOException ex) {
                throw new CliException(Exit.USAGE, "Cannot read the token file " + f + ": " + ex.getMessage());
            }
        }
        if (e.inTty() && System.console() != null && e.in() == System.in) {
            char[] t = System.console().readPassword("Token (input hidden): ");
            return t == null ? null : new String(t);
        }
        if (e.inTty()) {
            e.err().print("Token: ");
            e.err().flush();
        }
        try {
            return new BufferedReader(new InputStreamReader(e.in(), StandardCharsets.UTF_8)).readLine();
        } catch (IOException ex) {
            throw new CliException(Exit.FAILED, "Cannot read the token from standard input: " + ex.getMessage());
        }
    }
}
