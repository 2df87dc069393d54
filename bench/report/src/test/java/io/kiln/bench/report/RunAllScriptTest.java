package io.kiln.bench.report;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bench/run-all.sh's command line: what it refuses (exit 2 before it builds or writes anything)
 * and what --list prints. Runs the real script with bash; none of these cases builds or runs a
 * benchmark, so each takes milliseconds.
 */
class RunAllScriptTest {

    /** The module runs from bench/report; the script is two levels up. */
    private static final Path SCRIPT = Path.of("../run-all.sh").toAbsolutePath().normalize();
    private static final Path RESULTS = SCRIPT.getParent().resolve("results");

    record Run(int status, String out, String err) {
    }

    private static Run runAll(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile("run-all-out", ".txt");
        Path err = Files.createTempFile("run-all-err", ".txt");
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("run-all.sh " + String.join(" ", args) + " did not end in 30 s");
            }
            return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private static List<String> runDirectories() throws IOException {
        if (!Files.isDirectory(RESULTS)) {
            return List.of();
        }
        try (var s = Files.list(RESULTS)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void anUnknownScenarioIsRefusedWithTheKnownNames() throws Exception {
        List<String> before = runDirectories();

        Run r = runAll("--quick", "--scenarios", "vmm,bogus");

        assertEquals(2, r.status(), r.err());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("run-all.sh: unknown scenario 'bogus' (known: vmm,path,gateway,density,queue,path-lab)\n"),
                r.err());
        assertEquals(before, runDirectories(), "a refused run made a results directory");
    }

    @Test
    void anUnknownOptionIsRefused() throws Exception {
        Run r = runAll("--fast");

        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().startsWith("run-all.sh: unknown option '--fast'\n"), r.err());
    }

    @Test
    void anOptionWithoutItsValueIsRefused() throws Exception {
        Run r = runAll("--scenarios");

        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().startsWith("run-all.sh: --scenarios needs a value\n"), r.err());
    }

    @Test
    void listPrintsEveryScenarioOnceInRunOrderWithItsTimes() throws Exception {
        Run r = runAll("--list");

        assertEquals(0, r.status(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(8, lines.size(), r.out());
        assertTrue(lines.get(0).startsWith("scenario  where quick   full    what it measures"), lines.get(0));
        List<String> names = lines.subList(1, 7).stream().map(l -> l.split("\\s+")[0]).toList();
        assertEquals(List.of("vmm", "path", "gateway", "density", "queue", "path-lab"), names);
        assertTrue(lines.get(3).matches("gateway\\s+host\\s+\\d+m\\d\\ds\\s+\\d+m\\d\\ds\\s+.*\\(bench/gateway\\.sh\\)"),
                lines.get(3));
        assertTrue(lines.get(6).matches("path-lab\\s+lab\\s+\\d+m\\d\\ds\\s+\\d+m\\d\\ds\\s+.*\\(bench/lab-engines\\.sh\\)"),
                lines.get(6));
    }

    @Test
    void listAcceptsAKnownSelectionAndBuildsNothing() throws Exception {
        Run r = runAll("--scenarios", "queue,vmm", "--list");

        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err());
    }
}
