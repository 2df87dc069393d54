package io.kiln.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/** One run of a command (bin/kiln) as a real process: exit code, stdout as bytes, stderr. */
record KilnProcess(int exit, byte[] stdout, String err) {

    String out() {
        return new String(stdout, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "exit " + exit + "\n--- stdout\n" + out() + "\n--- stderr\n" + err;
    }

    /**
     * Runs {@code cmd} in {@code cwd} (null: this JVM's) with {@code env} (no other KILN_
     * variables), {@code stdin} (null: none), its output captured in files under {@code work};
     * at most 5 minutes.
     */
    static KilnProcess run(Path work, Path cwd, Map<String, String> env, byte[] stdin, String... cmd)
            throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        if (cwd != null) {
            pb.directory(cwd.toFile());
        }
        pb.environment().keySet().removeIf(k -> k.startsWith("KILN_"));
        pb.environment().putAll(env);
        Path out = Files.createTempFile(work, "out", ".bin");
        Path err = Files.createTempFile(work, "err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        if (stdin == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        }
        Process p = pb.start();
        if (stdin != null) {
            try (var in = p.getOutputStream()) {
                in.write(stdin);
            }
        }
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("did not finish within 5 minutes: " + List.of(cmd));
        }
        return new KilnProcess(p.exitValue(), Files.readAllBytes(out), Files.readString(err));
    }
}
