package io.kiln.gateway.bench;

import io.kiln.bench.report.ScenarioResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The queue benchmark's JSON, as bench/run-all.sh's report reads it: a tiny run on the embedded
 * store and the process engine (seconds), checked for the scenario's ids and its raw samples.
 */
class QueueBenchTest {

    @Test
    void aTinyRunWritesTheScenarioWithItsIdsAndSamples(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("queue.json");

        int status = QueueBench.execute(new String[] {"--stores", "sqlite", "--calls", "16", "--paced", "5",
                "--warmup", "8", "--json", json.toString()});

        assertEquals(0, status);
        ScenarioResult r = ScenarioResult.read(json);
        assertEquals("queue", r.scenario());
        assertEquals("host", r.where());
        assertEquals(List.of("sqlite"), r.engines());
        ScenarioResult.Metric wait = r.metric("sqlite", "enqueue-to-start");
        assertNotNull(wait, "no sqlite/enqueue-to-start in " + r.metrics());
        assertEquals("ms", wait.unit());
        assertEquals(5, wait.n());
        assertEquals(5, r.samples().get("sqlite/enqueue-to-start").length);
        assertEquals(1, r.throughput().size());
        ScenarioResult.Throughput t = r.throughput().get(0);
        assertEquals("sqlite", t.engine());
        assertEquals(8, t.callers());
        assertEquals(16, t.calls());
        assertTrue(t.callsPerSecond() > 0, "calls/s " + t.callsPerSecond());
        assertTrue(r.table().contains("| SQLite (embedded, synchronous=FULL) |"), r.table());
    }

    @Test
    void aStoreThatCannotRunIsANoteAndExitThree(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("queue.json");

        int status = QueueBench.execute(new String[] {"--stores", "oracle", "--json", json.toString()});

        assertEquals(3, status);
        ScenarioResult r = ScenarioResult.read(json);
        assertEquals(List.of(), r.metrics());
        assertEquals(List.of(), r.engines());
        assertTrue(r.notes().get(0).startsWith("oracle not run: java.lang.IllegalArgumentException: stores are sqlite"
                + " and postgres, got oracle"), r.notes().toString());
    }
}
