package io.kiln.bench.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every scenario's goals, in one place: the statement with its numbers, where it was set, and
 * how a run's result decides it. Goals compare p50s; a ratio is always between two engines of
 * the same scenario, so of the same run and the same place.
 *
 * <p>Metric ids beyond the common ones that goals look up: in {@code path-lab},
 * {@code restore-engine-share} (ms: the engine's share of a restore, snapshot files to vCPUs
 * running) and {@code overhead-per-instance} (MiB: the VMM's own private memory per idle
 * instance, beyond the guest's dirtied pages).
 */
public final class Goals {

    private Goals() {
    }

    /** All goals, in the report's order. */
    public static List<Goal> all() {
        return List.of(
                new Goal("vmm", "The Java engine (`kvm`) is at least 20x faster than QEMU on the tiny guest: "
                        + "to the first serial byte, and restoring a snapshot at 128 MiB and at 1 GiB (p50 against p50).",
                        "issue 4", r -> allAtLeast(r, "qemu", "kvm", 20, List.of(
                        Map.entry("first-serial-byte", "first serial byte"),
                        Map.entry("restore-128", "restore 128 MiB"),
                        Map.entry("restore-1024", "restore 1 GiB")))),
                new Goal("path", "The snapshot promise: a cold call (restore from the function snapshot to the first "
                        + "RESULT) is at least 10x faster than booting the guest to READY, on every engine measured.",
                        "issue 20, the snapshot design's premise", Goals::coldAgainstBoot),
                new Goal("path-lab", "The VMM's own share of a restore (snapshot files to vCPUs running) is at least "
                        + "10x smaller on the Java engine than on QEMU-KVM.",
                        "issue 13", r -> allAtLeast(r, "qemu-kvm", "kvm", 10,
                        List.of(Map.entry("restore-engine-share", "the engine's share of a restore")))),
                new Goal("path-lab", "Restore to first RESULT (a cold call) is at least 3x faster on the Java engine "
                        + "than on QEMU-KVM.",
                        "issue 13", r -> allAtLeast(r, "qemu-kvm", "kvm", 3, List.of(Map.entry("cold-call", "cold call")))),
                new Goal("path-lab", "Restore to first RESULT on the Java engine is at least 10x faster than a "
                        + "plain JVM process starting the same function (the process engine).",
                        "issue 13", r -> allAtLeast(r, "process", "kvm", 10, List.of(Map.entry("cold-call", "cold call")))),
                new Goal("path-lab", "The Java engine's own memory per idle instance is under 5 MiB beyond the "
                        + "guest's dirtied pages.",
                        "issue 13", r -> atMost(r, "kvm", "overhead-per-instance", 5, "MiB", true)),
                new Goal("gateway", "The gateway's own time in a warm call (Server-Timing `gateway`) is under 1 ms "
                        + "at p50, next to every engine measured.",
                        "this report, from the hand-made runs (0.2-0.5 ms, BENCHMARKS-NOTES.md); issue 7 asked "
                        + "for the breakdown, not a bound", r -> everyEngineAtMost(r, "gateway-own", 1, "ms", true,
                        List.of("vertx"))),
                new Goal("density", "Every idle instance's private memory, measured from the host (smaps), is at most "
                        + "the memory the invoker's budget charges it (`memoryMib`), so the instances the budget "
                        + "admits really fit.",
                        "issue 20 (smaps, not guessed), and issue 6: the budget counts configured memory",
                        Goals::densityWithinCharge),
                new Goal("queue", "An accepted async call starts within 10 ms at p50 (enqueue to start), on each store.",
                        "this report, from the hand-made runs (1-15 ms, BENCHMARKS-NOTES.md); issue 17 asked "
                        + "for the numbers, not a bound", r -> everyEngineAtMost(r, "enqueue-to-start", 10, "ms",
                        false, List.of())));
    }

    /** The goals of one scenario. */
    public static List<Goal> of(String scenario) {
        return all().stream().filter(g -> g.scenario().equals(scenario)).toList();
    }

    /** p50 of {@code slower} / p50 of {@code faster} is at least {@code min} for every metric named. */
    static Verdict allAtLeast(ScenarioResult r, String slower, String faster, double min,
                              List<Map.Entry<String, String>> ids) {
        List<String> parts = new ArrayList<>();
        boolean met = true;
        for (Map.Entry<String, String> named : ids) {
            String id = named.getKey();
            ScenarioResult.Metric s = r.metric(slower, id);
            ScenarioResult.Metric f = r.metric(faster, id);
            if (s == null || f == null) {
                return Verdict.notMeasured("no " + (s == null ? slower : faster) + "/" + id + " in " + r.scenario()
                        + ".json");
            }
            double ratio = s.p50() / f.p50();
            met &= ratio >= min;
            parts.add(named.getValue() + " " + Format.ratio(ratio) + " (" + slower + " " + Format.number(s.p50()) + " "
                    + s.unit() + " / " + faster + " " + Format.number(f.p50()) + " " + f.unit() + ", p50 of "
                    + s.n() + " and " + f.n() + ")");
        }
        return Verdict.met(met, String.join("; ", parts) + ", " + r.where() + "; goal " + Format.ratio(min));
    }

    /** p50 of one engine's metric is under (or at most) {@code max}. */
    static Verdict atMost(ScenarioResult r, String engine, String id, double max, String unit, boolean strictly) {
        ScenarioResult.Metric m = r.metric(engine, id);
        if (m == null) {
            return Verdict.notMeasured("no " + engine + "/" + id + " in " + r.scenario() + ".json");
        }
        boolean met = strictly ? m.p50() < max : m.p50() <= max;
        return Verdict.met(met, engine + " " + Format.number(m.p50()) + " " + m.unit() + " (p50 of " + m.n() + ", "
                + r.where() + "); goal " + (strictly ? "under " : "at most ") + Format.number(max) + " " + unit);
    }

    /** Every engine that measured {@code id} (but those left out) has its p50 under/at most {@code max}. */
    static Verdict everyEngineAtMost(ScenarioResult r, String id, double max, String unit, boolean strictly,
                                     List<String> leftOut) {
        List<String> parts = new ArrayList<>();
        boolean met = true;
        for (String engine : r.engines()) {
            ScenarioResult.Metric m = r.metric(engine, id);
            if (m == null || leftOut.contains(engine)) {
                continue;
            }
            met &= strictly ? m.p50() < max : m.p50() <= max;
            parts.add(engine + " " + Format.number(m.p50()) + " " + m.unit() + " (p50 of " + m.n() + ")");
        }
        if (parts.isEmpty()) {
            return Verdict.notMeasured("no " + id + " metric in " + r.scenario() + ".json");
        }
        return Verdict.met(met, String.join(", ", parts) + ", " + r.where() + "; goal " + (strictly ? "under " : "at most ")
                + Format.number(max) + " " + unit);
    }

    static Verdict coldAgainstBoot(ScenarioResult r) {
        List<String> parts = new ArrayList<>();
        boolean met = true;
        for (String engine : r.engines()) {
            ScenarioResult.Metric boot = r.metric(engine, "boot-to-ready");
            ScenarioResult.Metric cold = r.metric(engine, "cold-call");
            if (boot == null || cold == null) {
                continue;
            }
            double ratio = boot.p50() / cold.p50();
            met &= ratio >= 10;
            parts.add(engine + " " + Format.ratio(ratio) + " (boot " + Format.number(boot.p50()) + " ms / cold call "
                    + Format.number(cold.p50()) + " ms, p50 of " + boot.n() + " and " + cold.n() + ")");
        }
        if (parts.isEmpty()) {
            return Verdict.notMeasured("no engine with both boot-to-ready and cold-call in " + r.scenario() + ".json");
        }
        return Verdict.met(met, String.join("; ", parts) + ", " + r.where() + "; goal " + Format.ratio(10));
    }

    static Verdict densityWithinCharge(ScenarioResult r) {
        Object charged = r.parameters().get("memoryMib");
        if (!(charged instanceof Number)) {
            return Verdict.notMeasured("density.json has no memoryMib parameter (what the budget charges an instance)");
        }
        if (r.memory().isEmpty()) {
            return Verdict.notMeasured("density.json has no memory rows");
        }
        double charge = ((Number) charged).doubleValue();
        List<String> parts = new ArrayList<>();
        boolean met = true;
        for (String engine : r.engines()) {
            List<ScenarioResult.Memory> rows = r.memory().stream().filter(m -> m.engine().equals(engine)).toList();
            if (rows.isEmpty()) {
                continue;
            }
            double largest = rows.stream().mapToDouble(ScenarioResult.Memory::privateMib).max().orElseThrow();
            met &= largest <= charge;
            ScenarioResult.Metric fit = r.metric(engine, "instances-in-budget");
            parts.add(engine + ": largest of " + rows.size() + " idle instances " + Format.number(largest)
                    + " MiB private" + (fit == null ? "" : ", " + Format.value(fit.p50(), fit.unit()) + " fit in the budget"));
        }
        Object budget = r.parameters().get("budgetMib");
        return Verdict.met(met, String.join("; ", parts) + String.format(Locale.ROOT, "; charged %s MiB each%s, %s",
                Format.number(charge), budget == null ? "" : " in a " + budget + " MiB budget", r.where()));
    }
}
