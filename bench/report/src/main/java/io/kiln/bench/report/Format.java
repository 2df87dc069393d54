package io.kiln.bench.report;

import java.util.Locale;
import java.util.Map;

/** How the report writes numbers and names engines, in one place so tables and figures agree. */
final class Format {

    private static final Map<String, String> ENGINES = Map.of(
            "kvm", "Java KVM engine",
            "qemu", "QEMU",
            "qemu-tcg", "QEMU TCG",
            "qemu-kvm", "QEMU KVM",
            "process", "process engine",
            "vertx", "bare Vert.x handler",
            "sqlite", "SQLite (embedded)",
            "postgres", "PostgreSQL");

    private Format() {
    }

    /** An engine's readable name; unknown engines keep their id. */
    static String engine(String id) {
        return ENGINES.getOrDefault(id, id);
    }

    /** About three significant figures: 1369, 52.0, 2.60, 0.457. */
    static String number(double v) {
        if (Double.isNaN(v)) {
            return "—";
        }
        double a = Math.abs(v);
        String pattern = a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : a == 0 ? "%.0f" : "%.3f";
        return String.format(Locale.ROOT, pattern, v);
    }

    /** A value in its unit: counts as whole numbers, the rest as {@link #number}. */
    static String value(double v, String unit) {
        return "count".equals(unit) ? String.format(Locale.ROOT, "%.0f", v) : number(v);
    }

    /** A ratio such as 18.8x or 1.60x. */
    static String ratio(double r) {
        return String.format(Locale.ROOT, r >= 10 ? "%.1fx" : "%.2fx", r);
    }

    /** host or lab, with what the host's KVM is, so no absolute time stands without its place. */
    static String where(String where, HostInfo host) {
        if ("lab".equals(where)) {
            return "lab (nested kvm_amd under QEMU TCG: compare engines, not times)";
        }
        return "host" + (host.kvmKind() == null ? "" : " (" + host.kvmKind() + ")");
    }
}
