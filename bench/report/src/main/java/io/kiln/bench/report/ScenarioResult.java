package io.kiln.bench.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one benchmark scenario measured, as every harness writes it ({@code <scenario>.json} in a
 * run's results directory) and the report reads it. Raw samples are kept beside their summary,
 * so a figure or a later reader can see the distribution, not only its percentiles.
 *
 * @param scenario    the name {@code bench/run-all.sh} selects it by (e.g. {@code vmm}, {@code path})
 * @param title       one line saying what was measured
 * @param where       {@code host} (this machine) or {@code lab} (the nested KVM lab)
 * @param engines     the engines measured, in the order the report shows them
 * @param quick       whether the run was a quick one (fewer samples)
 * @param startedAt   when the scenario began (ISO-8601, UTC)
 * @param seconds     how long it took
 * @param parameters  what the harness was run with (iterations, callers, sizes...)
 * @param environment what the harness saw of where it ran (e.g. the lab's kernel), beyond the run's host.json
 * @param metrics     summaries of sampled quantities
 * @param samples     raw samples by {@code <engine>/<metric id>}, in the metric's unit, in the order taken
 * @param throughput  calls per second at each number of concurrent callers
 * @param memory      memory per instance, measured from the host
 * @param notes       lines the harness wants in the report (what was odd, what was skipped and why)
 * @param table       the harness's own Markdown table, as it printed it
 */
public record ScenarioResult(String scenario, String title, String where, List<String> engines, boolean quick,
                             String startedAt, double seconds, Map<String, Object> parameters,
                             Map<String, String> environment, List<Metric> metrics, Map<String, double[]> samples,
                             List<Throughput> throughput, List<Memory> memory, List<String> notes, String table) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** A harness that leaves a list or map out of its file means "none", not "unknown". */
    public ScenarioResult {
        engines = engines == null ? List.of() : engines;
        parameters = parameters == null ? Map.of() : parameters;
        environment = environment == null ? Map.of() : environment;
        metrics = metrics == null ? List.of() : metrics;
        samples = samples == null ? Map.of() : samples;
        throughput = throughput == null ? List.of() : throughput;
        memory = memory == null ? List.of() : memory;
        notes = notes == null ? List.of() : notes;
        table = table == null ? "" : table;
    }

    /**
     * A sampled quantity's summary. Percentiles are nearest-rank on the sorted samples: with fewer
     * than 1,000 samples p99.9 is the maximum, and the report says how many samples there were.
     */
    public record Metric(String id, String label, String engine, String unit, int n, double p50, double p99,
                         double p999, double mean, double min, double max) {

        public static Metric of(String id, String label, String engine, String unit, double[] samples) {
            if (samples.length == 0) {
                throw new IllegalArgumentException("no samples of " + engine + "/" + id);
            }
            double[] s = samples.clone();
            Arrays.sort(s);
            return new Metric(id, label, engine, unit, s.length, rank(s, 0.50), rank(s, 0.99), rank(s, 0.999),
                    Arrays.stream(s).average().orElseThrow(), s[0], s[s.length - 1]);
        }

        /** Nearest rank: the smallest sample with at least {@code q} of the samples at or below it. */
        static double rank(double[] sorted, double q) {
            int i = (int) Math.ceil(q * sorted.length) - 1;
            return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
        }
    }

    /** Warm calls per second with {@code callers} concurrent callers, and their latency in ms. */
    public record Throughput(String engine, int callers, double callsPerSecond, long calls, double p50Ms,
                             double p99Ms, double p999Ms) {
    }

    /**
     * One idle instance's memory as the host sees it (smaps of its VMM process, or its share of a
     * shared one), in MiB.
     */
    public record Memory(String engine, int instance, double privateMib, double rssMib, double pssMib) {
    }

    /** Writes this result to {@code file} (its directory must exist). */
    public void write(Path file) throws IOException {
        Files.writeString(file, JSON.writeValueAsString(this) + "\n");
    }

    public static ScenarioResult read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), ScenarioResult.class);
    }

    /** The raw samples of one engine and metric id, or null. */
    public double[] samples(String engine, String id) {
        return samples.get(engine + "/" + id);
    }

    /** Metrics of one engine and id, if measured. */
    public Metric metric(String engine, String id) {
        return metrics.stream().filter(m -> m.engine().equals(engine) && m.id().equals(id)).findFirst().orElse(null);
    }

    public static Builder builder(String scenario, String title, String where) {
        return new Builder(scenario, title, where);
    }

    /** Collects a scenario's results as a harness measures them; {@link #build} stamps the duration. */
    public static final class Builder {
        private final String scenario;
        private final String title;
        private final String where;
        private Instant startedAt = Instant.now();
        private long startedNanos = System.nanoTime();
        private final List<String> engines = new ArrayList<>();
        private boolean quick;
        private final Map<String, Object> parameters = new LinkedHashMap<>();
        private final Map<String, String> environment = new LinkedHashMap<>();
        private final List<Metric> metrics = new ArrayList<>();
        private final Map<String, double[]> samples = new LinkedHashMap<>();
        private final List<Throughput> throughput = new ArrayList<>();
        private final List<Memory> memory = new ArrayList<>();
        private final List<String> notes = new ArrayList<>();
        private String table = "";

        private Builder(String scenario, String title, String where) {
            if (!where.equals("host") && !where.equals("lab")) {
                throw new IllegalArgumentException("where is host or lab, not " + where);
            }
            this.scenario = scenario;
            this.title = title;
            this.where = where;
        }

        /**
         * The scenario began at {@code at}, before this builder was made: for a harness that
         * builds its result only once it has measured everything.
         */
        public Builder startedAt(Instant at) {
            startedNanos = System.nanoTime() - java.time.Duration.between(at, Instant.now()).toNanos();
            startedAt = at;
            return this;
        }

        public Builder engine(String engine) {
            if (!engines.contains(engine)) {
                engines.add(engine);
            }
            return this;
        }

        public Builder quick(boolean quick) {
            this.quick = quick;
            return this;
        }

        public Builder parameter(String name, Object value) {
            parameters.put(name, value);
            return this;
        }

        public Builder environment(String name, String value) {
            environment.put(name, value);
            return this;
        }

        /** Adds the samples and their summary. */
        public Builder sampled(String id, String label, String engine, String unit, double[] values) {
            engine(engine);
            metrics.add(Metric.of(id, label, engine, unit, values));
            samples.put(engine + "/" + id, values.clone());
            return this;
        }

        public Builder throughput(Throughput t) {
            engine(t.engine());
            throughput.add(t);
            return this;
        }

        public Builder memory(Memory m) {
            engine(m.engine());
            memory.add(m);
            return this;
        }

        public Builder note(String line) {
            notes.add(line);
            return this;
        }

        public Builder table(String markdown) {
            this.table = markdown;
            return this;
        }

        public ScenarioResult build() {
            return new ScenarioResult(scenario, title, where, List.copyOf(engines), quick, startedAt.toString(),
                    (System.nanoTime() - startedNanos) / 1e9, ordered(parameters), ordered(environment),
                    List.copyOf(metrics), ordered(samples), List.copyOf(throughput), List.copyOf(memory),
                    List.copyOf(notes), table);
        }

        /** A copy that keeps the order things were added in (the report shows them in it). */
        private static <V> Map<String, V> ordered(Map<String, V> m) {
            return Collections.unmodifiableMap(new LinkedHashMap<>(m));
        }
    }
}
