package io.kiln.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Everything a command takes from the world it runs in: environment variables, the home
 * directory, the standard streams and which of them is a terminal. {@link #system()} is the
 * real one; tests build their own, so no test reads or writes the user's ~/.config.
 *
 * @param env       environment variables (KILN_URL, KILN_TOKEN, KILN_DATA, XDG_CONFIG_HOME, ...)
 * @param home      the user's home directory
 * @param workDir   where relative paths (--jar, --file, --project) start
 * @param in        standard input (invoke's body, login's token)
 * @param out       standard output; raw bytes for invoke's body, UTF-8 text otherwise
 * @param err       standard error: progress, messages, errors
 * @param inTty     standard input is a terminal (then invoke does not read it)
 * @param outTty    standard output is a terminal
 * @param errTty    standard error is a terminal (then progress is drawn as bars)
 */
public record CliEnv(Map<String, String> env, Path home, Path workDir, InputStream in, PrintStream out,
                     PrintStream err, boolean inTty, boolean outTty, boolean errTty) {

    public static CliEnv system() {
        return new CliEnv(System.getenv(), Path.of(System.getProperty("user.home")),
                Path.of("").toAbsolutePath(), System.in,
                new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8),
                new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true, StandardCharsets.UTF_8),
                isTty(0), isTty(1), isTty(2));
    }

    /** The variable, or null when it is unset or empty. */
    public String var(String name) {
        String v = env.get(name);
        return v == null || v.isEmpty() ? null : v;
    }

    /** A path the user gave, relative to {@link #workDir}. */
    public Path path(String p) {
        if (p.equals("~") || p.startsWith("~/")) {
            return home.resolve(p.length() == 1 ? "" : p.substring(2));
        }
        return workDir.resolve(p).normalize();
    }

    /**
     * Whether file descriptor {@code fd} of this process is a terminal. On Linux
     * {@code /proc/self/fd/N} links to {@code /dev/pts/N} or {@code /dev/ttyN} exactly then;
     * elsewhere {@link System#console()} (which needs both stdin and stdout on a terminal)
     * answers for all three.
     */
    static boolean isTty(int fd) {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (Exception e) {
            return System.console() != null;
        }
    }
}
