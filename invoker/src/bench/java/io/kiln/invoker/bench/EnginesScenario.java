package io.kiln.invoker.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.bench.report.ScenarioResult;
import io.kiln.bench.report.ScenarioResult.Memory;
import io.kiln.bench.report.ScenarioResult.Metric;
import io.kiln.bench.report.ScenarioResult.Throughput;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * {@link EnginesBench}'s raw results (a directory of {@code engine-*.json}) as one
 * {@link ScenarioResult}: scenario {@code path} on the host, {@code path-lab} in the nested lab.
 * Read from the files rather than from the running harness, so the lab's results are mapped on
 * the host, and a run cut short still gives what it measured.
 *
 * <p>Metric ids (ms): {@code boot-to-ready}, {@code base-snapshot}, {@code function-snapshot}
 * (one sample per deploy), {@code cold-call} (as the caller saw it), {@code restore-to-result}
 * (the invoker's start + first INVOKE → RESULT, without its queueing), {@code
 * restore-engine-share} (snapshot files → vCPUs running), {@code warm-call}; {@code
 * overhead-per-instance} (MiB, one sample: what an idle instance costs beyond its guest's pages);
 * throughput per caller count; memory rows per idle instance (MiB).
 */
final class EnginesScenario {

    private static final double KIB_PER_MIB = 1024;

    private EnginesScenario() {
    }

    static ScenarioResult from(Path dir, String scenario, String where, boolean quick) throws IOException {
        Map<String, JsonNode> runs = read(dir);
        if (runs.isEmpty()) {
            throw new IOException("no engine-*.json in " + dir + ": the harness measured nothing");
        }
        List<String> engines = EnginesTable.order(runs.keySet());
        ScenarioResult.Builder b = ScenarioResult.builder(scenario, title(where, engines), where).quick(quick);
        JsonNode first = runs.get(engines.get(0));
        first.path("parameters").fields().forEachRemaining(p -> b.parameter(p.getKey(), value(p.getValue())));
        b.environment("machine", first.path("host").asText());
        for (String engine : engines) {
            JsonNode run = runs.get(engine);
            b.engine(engine);
            if (run.hasNonNull("engineReason")) {
                b.environment("engine " + engine, run.path("engineReason").asText());
            }
            if (run.has("error")) {
                b.note(engine + " FAILED at " + run.path("error").asText() + " (its rows hold what it measured before)");
            }
            metrics(b, engine, run);
            EnginesTable.overheadPerInstance(run).ifPresent(mib -> b.sampled("overhead-per-instance",
                    "private memory per idle instance beyond the guest's own pages (VMM processes, the invoker JVM's "
                            + "growth)", engine, "MiB", new double[]{Math.round(mib * 100) / 100.0}));
            throughput(b, engine, run);
            memory(b, engine, run);
        }
        notes(b, where, runs, engines);
        b.table(EnginesTable.render(dir) + throughputTable(runs, engines));
        ScenarioResult r = b.build();
        // The harness's own time span, not this mapping's.
        Instant start = runs.values().stream().map(n -> Instant.parse(n.path("started").asText()))
                .min(Instant::compareTo).orElseThrow();
        Instant end = runs.values().stream().filter(n -> n.hasNonNull("ended"))
                .map(n -> Instant.parse(n.path("ended").asText())).max(Instant::compareTo).orElse(start);
        return new ScenarioResult(r.scenario(), r.title(), r.where(), r.engines(), r.quick(), start.toString(),
                Duration.between(start, end).toMillis() / 1000.0, r.parameters(), r.environment(), r.metrics(),
                r.samples(), r.throughput(), r.memory(), r.notes(), r.table());
    }

    /** Each engine's raw results ({@code engine-*.json}) in {@code dir}, by engine name. */
    static Map<String, JsonNode> read(Path dir) throws IOException {
        Map<String, JsonNode> runs = new LinkedHashMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().matches("engine-.*\\.json")).sorted().toList();
        }
        for (Path f : files) {
            JsonNode n = EnginesBench.JSON.readTree(f.toFile());
            runs.put(n.path("engine").asText(), n);
        }
        return runs;
    }

    private static String title(String where, List<String> engines) {
        return "The whole call path through the real invoker (" + (where.equals("lab") ? "nested KVM lab" : "host")
                + ": " + String.join(", ", engines) + "): boot, snapshots, cold and warm calls, throughput";
    }

    private static Object value(JsonNode n) {
        if (n.isIntegralNumber()) {
            return n.asLong();
        }
        if (n.isNumber()) {
            return n.asDouble();
        }
        if (n.isArray()) {
            return StreamSupport.stream(n.spliterator(), false).map(EnginesScenario::value).toList();
        }
        return n.asText();
    }

    private static void metrics(ScenarioResult.Builder b, String engine, JsonNode run) {
        single(b, "boot-to-ready", "boot → READY (the base snapshot's boot)", engine,
                EnginesTable.progress(run.path("deploy"), EnginesTable.RUNTIME_READY));
        single(b, "base-snapshot", "base snapshot (after READY)", engine, EnginesTable.baseSnapshot(run));
        List<Double> fn = new ArrayList<>();
        for (String deploy : List.of("deploy", "deployWarm")) {
            EnginesTable.progress(run.path(deploy), EnginesTable.FUNCTION_READY).ifPresent(fn::add);
        }
        sampled(b, "function-snapshot", "function snapshot (restore base, LOAD, init, snapshot), per deploy", engine,
                fn.stream().mapToDouble(Double::doubleValue).toArray());
        sampled(b, "cold-call", "cold call: restore from the function snapshot → first RESULT, as the caller saw it",
                engine, cold(run, c -> c.path("latencyUs").asLong()));
        sampled(b, "restore-to-result", "cold call inside the invoker: start + first INVOKE → RESULT", engine,
                cold(run, c -> c.path("startUs").asLong() + c.path("invokeUs").asLong()));
        sampled(b, "restore-engine-share", "the engine's share of a restore: snapshot files → vCPUs running", engine,
                cold(run, c -> c.path("engineUs").asLong()));
        sampled(b, "warm-call", "warm call, sequential, one caller", engine,
                ms(StreamSupport.stream(run.path("warm").path("latencyUs").spliterator(), false)
                        .mapToLong(JsonNode::asLong).toArray()));
    }

    private static void single(ScenarioResult.Builder b, String id, String label, String engine, OptionalDouble v) {
        v.ifPresent(x -> b.sampled(id, label, engine, "ms", new double[]{x}));
    }

    private static void sampled(ScenarioResult.Builder b, String id, String label, String engine, double[] v) {
        if (v.length > 0) {
            b.sampled(id, label, engine, "ms", v);
        }
    }

    /** Cold calls' values in ms; a negative one (an engine that does not report that part) is left out. */
    private static double[] cold(JsonNode run, java.util.function.ToLongFunction<JsonNode> f) {
        return ms(StreamSupport.stream(run.path("cold").spliterator(), false).mapToLong(f).filter(x -> x >= 0)
                .toArray());
    }

    private static double[] ms(long[] us) {
        double[] ms = new double[us.length];
        for (int i = 0; i < us.length; i++) {
            ms[i] = us[i] / 1000.0;
        }
        return ms;
    }

    private static void throughput(ScenarioResult.Builder b, String engine, JsonNode run) {
        for (JsonNode t : run.path("throughput")) {
            double[] latency = ms(StreamSupport.stream(t.path("latencyUs").spliterator(), false)
                    .mapToLong(JsonNode::asLong).toArray());
            if (latency.length == 0) {
                continue;
            }
            Metric m = Metric.of("throughput", "", engine, "ms", latency);
            b.throughput(new Throughput(engine, t.path("callers").asInt(), latency.length / t.path("seconds").asDouble(),
                    latency.length, m.p50(), m.p99(), m.p999()));
        }
    }

    /**
     * One row per idle instance. Only processes that came with the instances count (not in the
     * no-instance baseline: other functions' VMM host processes are not theirs). Where those
     * processes (a QEMU or an agent JVM, with its jailer if jailed: a process and its descendants
     * among them) come one group per instance,
     * each group's private memory, guest RAM included. Otherwise (the Java engine's VMM host
     * processes holding several VMs, or VMs inside the invoker JVM) every row is an equal share of
     * the whole: the processes' private memory plus the invoker JVM's growth per instance.
     */
    static List<Memory> memoryRows(String engine, JsonNode run) {
        if (!EnginesTable.measuredIdle(run)) {
            return List.of();
        }
        int n = EnginesTable.instances(run);
        List<List<JsonNode>> groups = instanceGroups(EnginesTable.instanceProcesses(run));
        List<Memory> rows = new ArrayList<>();
        if (groups.size() == n) {
            int i = 0;
            for (List<JsonNode> g : groups) {
                rows.add(new Memory(engine, ++i, mib(sum(g, "PrivateCleanKiB") + sum(g, "PrivateDirtyKiB")),
                        mib(sum(g, "RssKiB")), mib(sum(g, "PssKiB"))));
            }
            return rows;
        }
        double privateMib = Math.round(EnginesTable.totalPerInstance(run).orElseThrow() * 100) / 100.0;
        List<JsonNode> all = groups.stream().flatMap(List::stream).toList();
        for (int i = 1; i <= n; i++) {
            rows.add(new Memory(engine, i, privateMib, mib(sum(all, "RssKiB") / n), mib(sum(all, "PssKiB") / n)));
        }
        return rows;
    }

    /** The measured processes grouped under the topmost one among them (a jailer with its VMM), in pid order. */
    static List<List<JsonNode>> instanceGroups(Iterable<JsonNode> children) {
        Map<Long, JsonNode> byPid = new LinkedHashMap<>();
        children.forEach(c -> byPid.put(c.path("pid").asLong(), c));
        Map<Long, List<JsonNode>> groups = new java.util.TreeMap<>();
        for (JsonNode c : children) {
            long top = c.path("pid").asLong();
            for (int hops = 0; hops < byPid.size() && byPid.containsKey(byPid.get(top).path("ppid").asLong(-1)); hops++) {
                top = byPid.get(top).path("ppid").asLong();
            }
            groups.computeIfAbsent(top, k -> new ArrayList<>()).add(c);
        }
        return new ArrayList<>(groups.values());
    }

    private static void memory(ScenarioResult.Builder b, String engine, JsonNode run) {
        memoryRows(engine, run).forEach(b::memory);
    }

    /** Processes' guest RAM part plus the rest, for one smaps field. */
    private static double sum(List<JsonNode> processes, String field) {
        return processes.stream().mapToDouble(p -> p.path("guest" + field).asDouble() + p.path("rest" + field)
                .asDouble()).sum();
    }

    private static double mib(double kib) {
        return Math.round(kib / KIB_PER_MIB * 100) / 100.0;
    }

    private static void notes(ScenarioResult.Builder b, String where, Map<String, JsonNode> runs, List<String> engines) {
        if (where.equals("lab")) {
            b.note("Every engine ran inside the nested lab, one after the other (a TCG guest of this machine with "
                    + "nested KVM): compare the engines side by side; the absolute times are the lab's, not hardware's.");
        }
        b.note("boot-to-ready and base-snapshot are one deploy's (n = 1); function-snapshot has one sample per "
                + "function deployed (the cold and the warm function).");
        for (String e : engines) {
            JsonNode run = runs.get(e);
            int idle = run.path("parameters").path("idle").asInt(EnginesTable.instances(run));
            if (run.path("throughput").size() > 0) {
                b.note(e + ": throughput rows are warm calls on the same " + instances(idle) + " (the function's "
                        + "minimum = maximum, maxConcurrency " + run.path("parameters").path("maxConcurrency").asText("?")
                        + "): callers beyond " + idle + " wait in the function's queue, so those rows measure "
                        + instances(idle) + " under queueing, not more instances.");
            }
            for (JsonNode t : run.path("throughput")) {
                if (t.path("coldStarts").asInt() > 0) {
                    b.note(e + ": " + t.path("coldStarts").asInt() + " of the calls at " + t.path("callers").asInt()
                            + " callers started an instance (an instance was lost and replaced).");
                }
            }
            if (EnginesTable.measuredIdle(run)) {
                int instances = EnginesTable.instances(run);
                List<JsonNode> children = EnginesTable.instanceProcesses(run);
                int groups = instanceGroups(children).size();
                if (groups != instances) {
                    b.note(e + ": its " + instances + " idle instances ran in " + children.size() + " processes ("
                            + groups + " once jailers count with their VMM): each memory row is an equal share of their private "
                            + "memory plus the invoker JVM's growth per instance.");
                } else {
                    EnginesTable.jvmPerInstance(run).ifPresent(jvm -> b.note(String.format("%s: each memory row is one "
                            + "instance's %s, guest RAM included; the invoker JVM's own growth per instance, not in "
                            + "them, was %.2f MiB.", e, children.size() > groups ? "process and its jailer" : "process",
                            jvm)));
                }
            }
        }
    }

    private static String instances(int n) {
        return n + (n == 1 ? " kept instance" : " kept instances");
    }

    private static String throughputTable(Map<String, JsonNode> runs, List<String> engines) {
        StringBuilder t = new StringBuilder();
        for (String e : engines) {
            for (JsonNode r : runs.get(e).path("throughput")) {
                long[] us = StreamSupport.stream(r.path("latencyUs").spliterator(), false).mapToLong(JsonNode::asLong)
                        .toArray();
                if (us.length == 0) {
                    continue;
                }
                Metric m = Metric.of("throughput", "", e, "ms", ms(us));
                t.append(String.format("| %s | %d | %d | %d | %.1f | %.2f | %.2f | %.2f |%n", e,
                        r.path("callers").asInt(), r.path("instances").asInt(), us.length,
                        us.length / r.path("seconds").asDouble(), m.p50(), m.p99(), m.p999()));
            }
        }
        return t.isEmpty() ? "" : "\n| engine | callers | instances | calls | calls/s | p50 ms | p99 ms | p99.9 ms |\n"
                + "|---|---:|---:|---:|---:|---:|---:|---:|\n" + t;
    }
}
