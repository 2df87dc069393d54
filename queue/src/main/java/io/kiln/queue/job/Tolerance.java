package io.kiln.queue.job;

/**
 * How many failed records a job tolerates before it stops: a count, or a percentage of all its
 * records (kept in hundredths of a percent, so 2.5% is exact). A job stops when its failed
 * records are MORE than tolerated: {@code failures(0)} stops at the first failure.
 */
public record Tolerance(Kind kind, long value) {

    public enum Kind {
        COUNT, PERCENT;

        String sql() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static Kind of(String s) {
            return valueOf(s.toUpperCase(java.util.Locale.ROOT));
        }
    }

    public static final Tolerance NONE = failures(0);

    public Tolerance {
        if (kind == null || value < 0 || (kind == Kind.PERCENT && value > 10_000)) {
            throw new IllegalArgumentException(kind == Kind.PERCENT
                    ? "a tolerated failure percentage is between 0 and 100, got " + value / 100.0
                    : "a tolerated failure count is 0 or more, got " + value);
        }
    }

    public static Tolerance failures(long n) {
        return new Tolerance(Kind.COUNT, n);
    }

    /** {@code percent} with at most two decimals. */
    public static Tolerance percent(double percent) {
        if (!(percent >= 0 && percent <= 100)) {
            throw new IllegalArgumentException("a tolerated failure percentage is between 0 and 100, got " + percent);
        }
        return new Tolerance(Kind.PERCENT, Math.round(percent * 100));
    }

    public double percent() {
        return value / 100.0;
    }

    /** True once {@code failed} of {@code total} records is more than tolerated. */
    public boolean exceededBy(long failed, long total) {
        return kind == Kind.COUNT ? failed > value : failed * 10_000 > value * total;
    }

    /** Why a job stopped, naming the count. */
    public String stopReason(long failed, long total) {
        String records = failed == 1 ? " record failed" : " records failed";
        if (kind == Kind.COUNT) {
            return "stopped: " + failed + records + ", more than the " + value + " tolerated";
        }
        return "stopped: " + failed + " of " + total + records + " (" + pct(failed * 100.0 / total)
                + "%), more than the " + pct(percent()) + "% tolerated";
    }

    private static String pct(double p) {
        String s = String.format(java.util.Locale.ROOT, "%.2f", p);
        return s.replaceAll("\\.?0+$", "");
    }

    @Override
    public String toString() {
        return kind == Kind.COUNT ? value + " failures" : pct(percent()) + "%";
    }
}
