package io.kiln.cli;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code ~/.config/kiln/config} ({@code $XDG_CONFIG_HOME/kiln/config} when that is set):
 * {@code key=value} lines, {@code #} comments. The keys are {@code url} and {@code token}.
 * Written by {@code kiln login}, mode 0600, whole or not at all.
 */
public final class ConfigFile {

    public static final String URL = "url";
    public static final String TOKEN = "token";

    private ConfigFile() {
    }

    public static Path path(CliEnv env) {
        String xdg = env.var("XDG_CONFIG_HOME");
        Path base = xdg != null && Path.of(xdg).isAbsolute() ? Path.of(xdg) : env.home().resolve(".config");
        return base.resolve("kiln").resolve("config");
    }

    /** The file's entries; empty if there is no file. */
    public static Map<String, String> read(Path file) {
        Map<String, String> values = new LinkedHashMap<>();
        if (!Files.isRegularFile(file)) {
            return values;
        }
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String l = line.strip();
                int eq = l.indexOf('=');
                if (l.isEmpty() || l.startsWith("#") || eq <= 0) {
                    continue;
                }
                values.put(l.substring(0, eq).strip(), l.substring(eq + 1).strip());
            }
        } catch (IOException e) {
            throw new CliException(Exit.FAILED, "Cannot read " + file + ": " + e.getMessage());
        }
        return values;
    }

    /** Writes {@code values} to {@code file}: a private temp file renamed over it, mode 0600. */
    public static void write(Path file, Map<String, String> values) {
        try {
            Files.createDirectories(file.getParent());
            Path temp = Files.createTempFile(file.getParent(), ".config-", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try {
                try (Writer w = Files.newBufferedWriter(temp, StandardCharsets.UTF_8)) {
                    w.write("# Written by `kiln login`. KILN_URL / KILN_TOKEN and --url / --token override it.\n");
                    for (Map.Entry<String, String> e : values.entrySet()) {
                        w.write(e.getKey() + "=" + e.getValue() + "\n");
                    }
                }
                try {
                    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(temp);
            }
        } catch (IOException e) {
            throw new CliException(Exit.FAILED, "Cannot write " + file + ": " + e.getMessage());
        }
    }
}
