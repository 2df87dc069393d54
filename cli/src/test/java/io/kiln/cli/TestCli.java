package io.kiln.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs {@code kiln} in this JVM as a user would run it, in a world of the test's making: its own
 * home directory (so no test touches the real ~/.config), environment, stdin and terminals.
 */
final class TestCli {

    final Path home;
    final Map<String, String> env = new HashMap<>();
    Path workDir;
    byte[] stdin = new byte[0];
    boolean inTty;
    boolean outTty;
    boolean errTty;

    TestCli(Path home) {
        this.home = home;
        this.workDir = home;
        try {
            Files.createDirectories(home);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    TestCli env(String k, String v) {
        env.put(k, v);
        return this;
    }

    TestCli stdin(byte[] bytes) {
        stdin = bytes;
        return this;
    }

    TestCli stdin(String text) {
        return stdin(text.getBytes(StandardCharsets.UTF_8));
    }

    TestCli ttys(boolean in, boolean out, boolean err) {
        inTty = in;
        outTty = out;
        errTty = err;
        return this;
    }

    /** What one command did. */
    record Result(int exit, byte[] stdout, String stderr) {
        String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out() + "\n--- stderr\n" + stderr;
        }
    }

    CliEnv cliEnv(InputStream in, PrintStream out, PrintStream err) {
        return new CliEnv(Map.copyOf(env), home, workDir, in, out, err, inTty, outTty, errTty);
    }

    Result run(String... args) {
        return runWith(new ByteArrayOutputStream(), new ByteArrayOutputStream(), args);
    }

    /** Runs with the given buffers, which another thread may read while the command runs ({@code logs -f}). */
    Result runWith(ByteArrayOutputStream out, ByteArrayOutputStream err, String... args) {
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        int exit = Kiln.run(cliEnv(new ByteArrayInputStream(stdin), o, e), args);
        o.flush();
        e.flush();
        return new Result(exit, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }
}
