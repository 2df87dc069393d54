package io.kiln.microvm.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The results as a console table and as Markdown (the scenario result's {@code table}, which the report folds in). */
final class Report {
    private final MicroVmBench.Environment env;
    private final QemuBench.Accel accel;
    private final String qemuBootCommand;
    private final int iterations;
    private final int warmup;
    private final List<Samples> rows;
    private final double goal;
    private final List<String[]> ratios = new ArrayList<>();
    private final List<String[]> flatness = new ArrayList<>();

    Report(MicroVmBench.Environment env, QemuBench.Accel accel, String qemuBootCommand, int iterations, int warmup,
           List<Samples> rows, double goal) {
        this.env = env;
        this.accel = accel;
        this.qemuBootCommand = qemuBootCommand;
        this.iterations = iterations;
        this.warmup = warmup;
        this.rows = rows;
        this.goal = goal;
    }

    /** QEMU's median over the Java engine's, against the goal. */
    void ratio(String what, Samples java, Samples qemu) {
        double r = qemu.medianMs() / java.medianMs();
        ratios.add(new String[] {what, fmt(java.medianMs()), fmt(qemu.medianMs()), String.format(Locale.ROOT, "%.1fx", r),
                r >= goal ? "met" : "NOT met"});
    }

    /** Median restore time at the largest size over the smallest: 1.0 is flat. */
    void flatness(String engine, Samples small, Samples big) {
        flatness.add(new String[] {engine, fmt(small.medianMs()), fmt(big.medianMs()),
                String.format(Locale.ROOT, "%.2fx", big.medianMs() / small.medianMs())});
    }

    private static String fmt(double ms) {
        return String.format(Locale.ROOT, ms < 10 ? "%.2f" : "%.1f", ms);
    }

    private List<String[]> table() {
        List<String[]> t = new ArrayList<>();
        for (Samples s : rows) {
            t.add(new String[] {s.scenario, s.engine, Integer.toString(s.n()), fmt(s.minMs()), fmt(s.medianMs()), fmt(s.p90Ms()),
                    fmt(s.coldMs())});
        }
        return t;
    }

    private static final String[] HEAD = {"scenario", "engine", "n", "min ms", "median ms", "p90 ms", "first run ms"};
    private static final String[] RATIO_HEAD = {"measurement", "Java median ms", "QEMU median ms", "QEMU / Java", "20x goal"};
    private static final String[] FLAT_HEAD = {"engine", "small median ms", "large median ms", "large / small"};

    String text() {
        StringBuilder b = new StringBuilder();
        b.append(env.describe()).append('\n');
        b.append("QEMU accelerator: ").append(accel).append(accel.kvm() ? "" : "   <<< TCG, NOT KVM").append("\n\n");
        b.append(plain(HEAD, table())).append('\n');
        b.append(plain(RATIO_HEAD, ratios)).append('\n');
        if (!flatness.isEmpty()) {
            b.append("restore time, largest size vs smallest:\n").append(plain(FLAT_HEAD, flatness));
        }
        return b.toString();
    }

    String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("- Machine: ").append(env.cores()).append(" cores, ").append(env.cpu()).append(", Linux ").append(env.kernel()).append('\n');
        b.append("- KVM (`KvmProbe.probeHost()`): **").append(env.kvm().kind()).append("** — ").append(env.kvm().reason()).append('\n');
        b.append("- JDK: ").append(env.jdk()).append('\n');
        b.append("- QEMU: ").append(env.qemu()).append(", `").append(accel).append('`')
                .append(accel.kvm() ? "" : " — **TCG, not KVM**").append('\n');
        b.append("- Runs: ").append(iterations).append(" measured per row after ").append(warmup)
                .append(" dropped warm-up runs; \"first run\" is the very first, in a fresh JVM; ").append(env.when()).append('\n');
        b.append("- QEMU boot command: `").append(qemuBootCommand).append("`\n\n");
        b.append(markdown(HEAD, table())).append('\n');
        b.append(markdown(RATIO_HEAD, ratios)).append('\n');
        if (!flatness.isEmpty()) {
            b.append(markdown(FLAT_HEAD, flatness));
        }
        return b.toString();
    }

    private static String plain(String[] head, List<String[]> rows) {
        int[] w = new int[head.length];
        List<String[]> all = new ArrayList<>();
        all.add(head);
        all.addAll(rows);
        for (String[] r : all) {
            for (int i = 0; i < r.length; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        StringBuilder b = new StringBuilder();
        for (String[] r : all) {
            for (int i = 0; i < r.length; i++) {
                boolean number = i > 0 && !r[i].isEmpty() && (Character.isDigit(r[i].charAt(0)) || r[i].equals("NaN"));
                String cell = number ? " ".repeat(w[i] - r[i].length()) + r[i] : r[i] + " ".repeat(w[i] - r[i].length());
                b.append(i == 0 ? "" : "  ").append(cell);
            }
            b.append('\n');
        }
        return b.toString();
    }

    private static String markdown(String[] head, List<String[]> rows) {
        StringBuilder b = new StringBuilder();
        b.append("| ").append(String.join(" | ", head)).append(" |\n|");
        for (int i = 0; i < head.length; i++) {
            boolean number = !rows.isEmpty() && !rows.get(0)[i].isEmpty() && Character.isDigit(rows.get(0)[i].charAt(0));
            b.append(number ? "---:|" : "---|");
        }
        b.append('\n');
        for (String[] r : rows) {
            b.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        return b.toString();
    }
}
