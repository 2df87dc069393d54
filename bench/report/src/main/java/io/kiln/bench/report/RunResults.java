package io.kiln.bench.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One run's results directory as read back: its host.json and every {@code <scenario>.json}.
 * A file that is not a ScenarioResult stops the report with its name, rather than leaving a
 * scenario silently out.
 */
public record RunResults(Path dir, HostInfo host, Map<String, ScenarioResult> scenarios) {

    public static RunResults read(Path dir) throws IOException {
        Path hostFile = dir.resolve("host.json");
        if (!Files.isRegularFile(hostFile)) {
            throw new IOException(hostFile + ": missing (bench/run-all.sh writes it with ReportMain host)");
        }
        HostInfo host = HostInfo.read(hostFile);
        Map<String, ScenarioResult> scenarios = new LinkedHashMap<>();
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.filter(p -> p.getFileName().toString().endsWith(".json"))
                    .filter(p -> !p.getFileName().toString().equals("host.json")).sorted().toList();
        }
        for (Path file : files) {
            ScenarioResult result;
            try {
                result = ScenarioResult.read(file);
            } catch (IOException e) {
                throw new IOException(file + ": not a ScenarioResult (" + HostInfo.firstLine(e.getMessage()) + ")", e);
            }
            if (result.scenario() == null || result.where() == null || result.engines() == null) {
                throw new IOException(file + ": not a ScenarioResult (no scenario, where or engines)");
            }
            scenarios.put(result.scenario(), result);
        }
        return new RunResults(dir, host, Collections.unmodifiableMap(scenarios));
    }

    public ScenarioResult scenario(String name) {
        return scenarios.get(name);
    }

    /**
     * The verdict on a scenario that left no result: FAILED when it ran (run-all.sh recorded an
     * exit status: it failed, or exited 0 without writing its result), else not run.
     */
    public Verdict missing(String name) {
        HostInfo.ScenarioRun r = host.run(name);
        return r != null && r.exitStatus() != null ? Verdict.failed(whyNotRun(name)) : Verdict.notRun(whyNotRun(name));
    }

    /** Why a scenario has no result: what run-all.sh recorded, or that it was not asked for. */
    public String whyNotRun(String name) {
        HostInfo.ScenarioRun run = host.run(name);
        if (run == null) {
            return "not selected in this run";
        }
        if (run.reason() != null && !run.reason().isBlank()) {
            // The report says "not run" itself; a reason written as "not run: X" would say it twice.
            return run.reason().replaceFirst("^not run: ", "");
        }
        if (run.exitStatus() != null) {
            return "exit " + run.exitStatus() + ", no result file";
        }
        return "no result file";
    }
}
