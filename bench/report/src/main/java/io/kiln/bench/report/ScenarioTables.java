package io.kiln.bench.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A scenario's results as Markdown tables: its metrics with one column per engine, warm
 * throughput by callers, memory per idle instance, and the ratios between its engines (all
 * measured side by side in the same run and place, since a scenario has one place).
 */
final class ScenarioTables {

    private ScenarioTables() {
    }

    /** Metric ids in the order the harness first wrote them, each with its label and unit. */
    private static Map<String, ScenarioResult.Metric> ids(ScenarioResult r) {
        Map<String, ScenarioResult.Metric> ids = new LinkedHashMap<>();
        r.metrics().forEach(m -> ids.putIfAbsent(m.id(), m));
        return ids;
    }

    /**
     * A row's name: the metric's label when every engine labels it alike, else its id, since a
     * label such as "client latency, bare Vert.x handler" would misname the other engines' cells.
     */
    static String rowName(ScenarioResult r, String id) {
        List<String> labels = r.metrics().stream().filter(m -> m.id().equals(id)).map(ScenarioResult.Metric::label)
                .distinct().toList();
        return labels.size() == 1 && labels.get(0) != null ? labels.get(0) : id;
    }

    static String metrics(ScenarioResult r) {
        if (r.metrics().isEmpty()) {
            return "";
        }
        List<String> engines = r.engines();
        StringBuilder t = new StringBuilder("| measure, " + r.where() + " | |");
        engines.forEach(e -> t.append(' ').append(e).append(" |"));
        t.append("\n|---|---|").append("---:|".repeat(engines.size())).append('\n');
        for (ScenarioResult.Metric first : ids(r).values()) {
            String[][] stats = {{"p50", null}, {"p99", null}, {"p99.9", null}, {"n", null}};
            for (int s = 0; s < stats.length; s++) {
                t.append("| ").append(s == 0 ? rowName(r, first.id()) + " (" + first.unit() + ")" : "").append(" | ")
                        .append(stats[s][0]).append(" |");
                for (String engine : engines) {
                    ScenarioResult.Metric m = r.metric(engine, first.id());
                    String cell = m == null ? "—" : switch (s) {
                        case 0 -> Format.value(m.p50(), m.unit());
                        case 1 -> Format.value(m.p99(), m.unit());
                        case 2 -> Format.value(m.p999(), m.unit());
                        default -> Integer.toString(m.n());
                    };
                    t.append(' ').append(cell).append(" |");
                }
                t.append('\n');
            }
        }
        return t.toString();
    }

    static String throughput(ScenarioResult r) {
        if (r.throughput().isEmpty()) {
            return "";
        }
        List<String> engines = r.engines().stream()
                .filter(e -> r.throughput().stream().anyMatch(t -> t.engine().equals(e))).toList();
        Set<Integer> callers = new TreeSet<>();
        r.throughput().forEach(t -> callers.add(t.callers()));
        StringBuilder t = new StringBuilder("| callers |");
        engines.forEach(e -> t.append(' ').append(e).append(" calls/s | ").append(e).append(" p50 / p99 ms (calls) |"));
        t.append("\n|---:|").append("---:|---:|".repeat(engines.size())).append('\n');
        for (int c : callers) {
            t.append("| ").append(c).append(" |");
            for (String engine : engines) {
                ScenarioResult.Throughput row = row(r, engine, c);
                if (row == null) {
                    t.append(" — | — |");
                } else {
                    t.append(' ').append(Format.number(row.callsPerSecond())).append(" | ")
                            .append(Format.number(row.p50Ms())).append(" / ").append(Format.number(row.p99Ms()))
                            .append(" (").append(row.calls()).append(") |");
                }
            }
            t.append('\n');
        }
        return t.toString();
    }

    static ScenarioResult.Throughput row(ScenarioResult r, String engine, int callers) {
        return r.throughput().stream().filter(t -> t.engine().equals(engine) && t.callers() == callers)
                .findFirst().orElse(null);
    }

    /** Per engine: how many idle instances, and their private, Rss and Pss MiB (mean, min-max). */
    static String memory(ScenarioResult r) {
        if (r.memory().isEmpty()) {
            return "";
        }
        StringBuilder t = new StringBuilder("| engine | idle instances | private MiB, mean (min-max) | Rss MiB, mean | Pss MiB, mean |\n"
                + "|---|---:|---:|---:|---:|\n");
        for (String engine : memoryEngines(r)) {
            List<ScenarioResult.Memory> rows = memoryOf(r, engine);
            double[] priv = rows.stream().mapToDouble(ScenarioResult.Memory::privateMib).toArray();
            t.append("| ").append(engine).append(" | ").append(rows.size()).append(" | ")
                    .append(Format.number(mean(priv))).append(" (").append(Format.number(min(priv))).append('-')
                    .append(Format.number(max(priv))).append(") | ")
                    .append(Format.number(mean(rows.stream().mapToDouble(ScenarioResult.Memory::rssMib).toArray())))
                    .append(" | ")
                    .append(Format.number(mean(rows.stream().mapToDouble(ScenarioResult.Memory::pssMib).toArray())))
                    .append(" |\n");
        }
        return t.toString();
    }

    static List<String> memoryEngines(ScenarioResult r) {
        Set<String> engines = new LinkedHashSet<>();
        r.engines().stream().filter(e -> !memoryOf(r, e).isEmpty()).forEach(engines::add);
        r.memory().forEach(m -> engines.add(m.engine()));
        return List.copyOf(engines);
    }

    static List<ScenarioResult.Memory> memoryOf(ScenarioResult r, String engine) {
        return r.memory().stream().filter(m -> m.engine().equals(engine)).toList();
    }

    /**
     * Each other engine against the scenario's first engine that measured the same thing: p50
     * against p50, calls/s against calls/s at the same callers, mean private MiB against mean.
     */
    static String ratios(ScenarioResult r) {
        List<String> rows = new ArrayList<>();
        for (ScenarioResult.Metric first : ids(r).values()) {
            List<ScenarioResult.Metric> measured = r.engines().stream().map(e -> r.metric(e, first.id()))
                    .filter(m -> m != null).toList();
            for (int i = 1; i < measured.size(); i++) {
                ScenarioResult.Metric base = measured.get(0);
                ScenarioResult.Metric other = measured.get(i);
                rows.add(ratioRow(rowName(r, first.id()) + ", p50 (" + first.unit() + ")", other.engine(), base.engine(),
                        other.p50(), base.p50()));
            }
        }
        Set<Integer> callers = new TreeSet<>();
        r.throughput().forEach(t -> callers.add(t.callers()));
        for (int c : callers) {
            List<ScenarioResult.Throughput> measured = r.engines().stream().map(e -> row(r, e, c))
                    .filter(t -> t != null).toList();
            for (int i = 1; i < measured.size(); i++) {
                rows.add(ratioRow("warm calls/s at " + c + (c == 1 ? " caller" : " callers"), measured.get(i).engine(),
                        measured.get(0).engine(), measured.get(i).callsPerSecond(), measured.get(0).callsPerSecond()));
            }
        }
        List<String> memoryEngines = memoryEngines(r);
        for (int i = 1; i < memoryEngines.size(); i++) {
            rows.add(ratioRow("private MiB per idle instance, mean", memoryEngines.get(i), memoryEngines.get(0),
                    meanPrivate(r, memoryEngines.get(i)), meanPrivate(r, memoryEngines.get(0))));
        }
        if (rows.isEmpty()) {
            return "";
        }
        return "| measure | engines | value | against | ratio |\n|---|---|---:|---:|---:|\n" + String.join("", rows);
    }

    private static String ratioRow(String measure, String engine, String base, double value, double against) {
        return "| " + measure + " | " + engine + " / " + base + " | " + Format.number(value) + " | "
                + Format.number(against) + " | " + Format.ratio(value / against) + " |\n";
    }

    static double meanPrivate(ScenarioResult r, String engine) {
        return mean(memoryOf(r, engine).stream().mapToDouble(ScenarioResult.Memory::privateMib).toArray());
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return v.length == 0 ? Double.NaN : s / v.length;
    }

    private static double min(double[] v) {
        double m = Double.POSITIVE_INFINITY;
        for (double x : v) {
            m = Math.min(m, x);
        }
        return m;
    }

    private static double max(double[] v) {
        double m = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            m = Math.max(m, x);
        }
        return m;
    }
}
