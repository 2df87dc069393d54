package io.kiln.microvm.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** One benchmark row's timings in nanoseconds: the first (cold) run apart, then the warm runs. */
final class Samples {
    final String scenario;
    final String engine;
    private long cold = -1;
    private final List<Long> warm = new ArrayList<>();
    private int seen;
    private final int warmup;

    Samples(String scenario, String engine, int warmup) {
        this.scenario = scenario;
        this.engine = engine;
        this.warmup = warmup;
    }

    /** The first sample is kept as "cold"; the next {@code warmup} are dropped; the rest are measured. */
    void add(long nanos) {
        if (seen == 0) {
            cold = nanos;
        } else if (seen > warmup) {
            warm.add(nanos);
        }
        seen++;
    }

    /** The measured (warm) samples in milliseconds, in the order taken. */
    double[] warmMs() {
        return warm.stream().mapToDouble(ns -> ns / 1e6).toArray();
    }

    int n() {
        return warm.size();
    }

    double coldMs() {
        return cold / 1e6;
    }

    double minMs() {
        return percentileMs(0);
    }

    double medianMs() {
        return percentileMs(50);
    }

    double p90Ms() {
        return percentileMs(90);
    }

    /** Nearest-rank percentile of the warm samples. */
    double percentileMs(double p) {
        if (warm.isEmpty()) {
            return Double.NaN;
        }
        List<Long> s = new ArrayList<>(warm);
        Collections.sort(s);
        int rank = (int) Math.ceil(p / 100.0 * s.size());
        return s.get(Math.max(0, Math.min(s.size() - 1, rank - 1))) / 1e6;
    }
}
