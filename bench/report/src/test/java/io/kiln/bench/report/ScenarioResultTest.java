package io.kiln.bench.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ScenarioResultTest {

    @Test
    void percentilesAreNearestRank() {
        double[] s = new double[1000];
        for (int i = 0; i < s.length; i++) {
            s[i] = 1000 - i; // 1000 .. 1, unsorted on purpose
        }
        ScenarioResult.Metric m = ScenarioResult.Metric.of("warm-call", "warm call", "kvm", "ms", s);
        assertEquals(1000, m.n());
        assertEquals(500, m.p50());
        assertEquals(990, m.p99());
        assertEquals(999, m.p999());
        assertEquals(1, m.min());
        assertEquals(1000, m.max());
        assertEquals(500.5, m.mean());
        ScenarioResult.Metric few = ScenarioResult.Metric.of("cold-call", "cold call", "kvm", "ms", new double[]{3, 1, 2});
        assertEquals(2, few.p50());
        assertEquals(3, few.p999(), "with 3 samples p99.9 is the largest");
    }

    @Test
    void aResultSurvivesItsFileWithOrderAndSamples(@TempDir Path dir) throws IOException {
        ScenarioResult r = ScenarioResult.builder("path", "the full path", "host").quick(true)
                .parameter("callers", List.of(1, 2, 8, 32)).parameter("cold", 5)
                .sampled("cold-call", "cold call", "qemu-tcg", "ms", new double[]{300, 100, 200})
                .throughput(new ScenarioResult.Throughput("qemu-tcg", 8, 120.5, 1205, 60, 90, 95))
                .memory(new ScenarioResult.Memory("qemu-tcg", 1, 14.5, 40, 20))
                .note("odd: nothing").table("| a |\n|---|\n| 1 |").build();
        r.write(dir.resolve("path.json"));
        ScenarioResult back = ScenarioResult.read(dir.resolve("path.json"));
        assertEquals(List.of("callers", "cold"), List.copyOf(back.parameters().keySet()));
        assertEquals(List.of("qemu-tcg"), back.engines());
        assertArrayEquals(new double[]{300, 100, 200}, back.samples().get("qemu-tcg/cold-call"));
        assertEquals(r.metrics(), back.metrics());
        assertEquals(r.throughput(), back.throughput());
        assertEquals(r.memory(), back.memory());
        assertEquals(200, back.metric("qemu-tcg", "cold-call").p50());
        assertEquals(r.startedAt(), back.startedAt());
    }
}
