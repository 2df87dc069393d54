package io.kiln.invoker.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.bench.report.ScenarioResult;
import io.kiln.bench.report.ScenarioResult.Memory;
import io.kiln.bench.report.ScenarioResult.Metric;
import io.kiln.bench.report.ScenarioResult.Throughput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * EnginesBench's raw results (engine-*.json, as it writes them) mapped to the common result
 * format: the ids the report looks up, exact samples, throughput and memory rows.
 */
class EnginesScenarioTest {

    /** A QEMU engine run: one process per idle instance. */
    private static final String QEMU = """
            {"engine": "qemu-tcg", "started": "2026-11-30T15:00:00Z", "ended": "2026-11-30T15:04:10.500Z",
             "host": "AMD EPYC, 2 CPU", "engineReason": "asked for qemu-tcg",
             "parameters": {"cold": 2, "warm": 4, "idle": 2, "seconds": 1.5, "memoryMib": 256, "budgetMib": 4096,
                            "maxConcurrency": 8, "callers": [1, 8]},
             "deploy": {"wallMs": 15000, "progress": [
               {"atMs": 100, "line": "receiving the jar"},
               {"atMs": 9000, "line": "runtime ready in 8500 ms"},
               {"atMs": 11000, "line": "snapshot /d/snapshots/base-abc ready in 1900 ms"},
               {"atMs": 14000, "line": "snapshot /d/functions/cold/1 ready in 2600 ms"}]},
             "deployWarm": {"wallMs": 3000, "progress": [
               {"atMs": 2900, "line": "snapshot /d/functions/warm/1 ready in 2400 ms"}]},
             "cold": [
               {"latencyUs": 800000, "queuedUs": 0, "startUs": 700000, "engineUs": 300000, "agentUs": 350000,
                "agentWorkUs": 10000, "invokeUs": 90000},
               {"latencyUs": 900500, "queuedUs": 0, "startUs": 780000, "engineUs": 320000, "agentUs": 400000,
                "agentWorkUs": 12000, "invokeUs": 100000}],
             "warm": {"latencyUs": [4000, 3000, 5000, 30000], "invokeUs": [3000, 2000, 4000, 29000]},
             "throughput": [
               {"callers": 1, "seconds": 2.0, "instances": 2, "coldStarts": 0, "latencyUs": [4000, 6000, 5000, 5000]},
               {"callers": 8, "seconds": 0.5, "instances": 2, "coldStarts": 1, "latencyUs": [10000, 20000]}],
             "memory": {"instances": 2, "preTouchedHeap": true,
               "none": {"heapUsedKiB": 1000, "jvm": {"restPrivateDirtyKiB": 500000}, "children": []},
               "idle": {"heapUsedKiB": 1000, "jvm": {"restPrivateDirtyKiB": 500000}, "children": [
                 {"pid": 11, "guestPrivateCleanKiB": 10240, "guestPrivateDirtyKiB": 20480, "guestRssKiB": 40960,
                  "guestPssKiB": 35840, "restPrivateCleanKiB": 1024, "restPrivateDirtyKiB": 51200,
                  "restRssKiB": 61440, "restPssKiB": 56320},
                 {"pid": 12, "guestPrivateCleanKiB": 0, "guestPrivateDirtyKiB": 10240, "guestRssKiB": 10240,
                  "guestPssKiB": 10240, "restPrivateCleanKiB": 0, "restPrivateDirtyKiB": 40960,
                  "restRssKiB": 40960, "restPssKiB": 40960}]}}}
            """;

    /**
     * The Java engine cut short after its memory: two instances in two VMM host processes with
     * their two jailers, and the invoker JVM grown by 2 MiB.
     */
    private static final String KVM = """
            {"engine": "kvm", "started": "2026-11-30T14:58:00Z", "ended": "2026-11-30T14:59:00Z",
             "host": "AMD EPYC, 2 CPU", "error": "warm calls: java.lang.IllegalStateException: boom",
             "parameters": {"idle": 2},
             "deploy": {"progress": [{"atMs": 0, "line": "runtime ready in 120 ms"}]},
             "cold": [{"latencyUs": 9000, "startUs": 7000, "engineUs": -1, "invokeUs": 1500}],
             "memory": {"instances": 2, "preTouchedHeap": false,
               "none": {"jvm": {"restPrivateDirtyKiB": 100000}, "children": []},
               "after": {"jvm": {"restPrivateDirtyKiB": 100000}, "children": []},
               "idle": {"jvm": {"restPrivateDirtyKiB": 104096}, "children": [
                 {"pid": 1, "restPrivateDirtyKiB": 100},
                 {"pid": 2, "restPrivateDirtyKiB": 100},
                 {"pid": 3, "guestPrivateDirtyKiB": 8192, "restPrivateDirtyKiB": 40960, "restRssKiB": 50000},
                 {"pid": 4, "guestPrivateDirtyKiB": 8192, "restPrivateDirtyKiB": 40960, "restRssKiB": 50000}]}}}
            """;

    @TempDir
    Path dir;

    private ScenarioResult map() throws IOException {
        Files.writeString(dir.resolve("engine-qemu-tcg.json"), QEMU);
        Files.writeString(dir.resolve("engine-kvm.json"), KVM);
        Files.writeString(dir.resolve("host-loadavg.txt"), ""); // lab-engines.sh's, beside them
        return EnginesScenario.from(dir, "path-lab", "lab", true);
    }

    @Test
    void theRunAsAWhole() throws IOException {
        ScenarioResult r = map();
        assertEquals("path-lab", r.scenario());
        assertEquals("lab", r.where());
        assertTrue(r.quick());
        assertEquals(List.of("kvm", "qemu-tcg"), r.engines(), "kvm first, the reference");
        // From the first engine's start to the last one's end, not the mapping's own time.
        assertEquals("2026-11-30T14:58:00Z", r.startedAt());
        assertEquals(370.5, r.seconds());
        assertEquals(2L, r.parameters().get("idle"));
        assertEquals("AMD EPYC, 2 CPU", r.environment().get("machine"));
        assertTrue(r.notes().contains("kvm FAILED at warm calls: java.lang.IllegalStateException: boom (its rows hold "
                + "what it measured before)"), r.notes().toString());
    }

    @Test
    void phasesAndCallsInMilliseconds() throws IOException {
        ScenarioResult r = map();
        assertArrayEquals(new double[]{8500}, r.samples().get("qemu-tcg/boot-to-ready"));
        assertArrayEquals(new double[]{2000}, r.samples().get("qemu-tcg/base-snapshot"), "READY at 9 s → base at 11 s");
        assertArrayEquals(new double[]{2600, 2400}, r.samples().get("qemu-tcg/function-snapshot"));
        assertArrayEquals(new double[]{800, 900.5}, r.samples().get("qemu-tcg/cold-call"));
        assertArrayEquals(new double[]{790, 880}, r.samples().get("qemu-tcg/restore-to-result"));
        assertArrayEquals(new double[]{300, 320}, r.samples().get("qemu-tcg/restore-engine-share"));
        assertArrayEquals(new double[]{4, 3, 5, 30}, r.samples().get("qemu-tcg/warm-call"), "in the order taken");
        Metric warm = r.metric("qemu-tcg", "warm-call");
        assertEquals(new Metric("warm-call", "warm call, sequential, one caller", "qemu-tcg", "ms", 4, 4, 30, 30,
                10.5, 3, 30), warm);
        // Only what was measured: no base snapshot line, a negative engine share, no warm calls.
        assertArrayEquals(new double[]{120}, r.samples().get("kvm/boot-to-ready"));
        assertNull(r.metric("kvm", "base-snapshot"));
        assertNull(r.metric("kvm", "restore-engine-share"));
        assertNull(r.metric("kvm", "warm-call"));
        assertArrayEquals(new double[]{8.5}, r.samples().get("kvm/restore-to-result"));
    }

    @Test
    void throughputPerCallerCount() throws IOException {
        ScenarioResult r = map();
        assertEquals(List.of(new Throughput("qemu-tcg", 1, 2.0, 4, 5, 6, 6),
                new Throughput("qemu-tcg", 8, 4.0, 2, 10, 20, 20)), r.throughput());
        assertTrue(r.notes().contains("qemu-tcg: 1 of the calls at 8 callers started an instance (an instance was "
                + "lost and replaced)."), r.notes().toString());
        assertTrue(r.table().contains("| qemu-tcg | 8 | 2 | 2 | 4.0 | 10.00 | 20.00 | 20.00 |"), r.table());
    }

    @Test
    void memoryPerProcessWhereEachInstanceHasOne() throws IOException {
        ScenarioResult r = map();
        List<Memory> qemu = r.memory().stream().filter(m -> m.engine().equals("qemu-tcg")).toList();
        assertEquals(List.of(new Memory("qemu-tcg", 1, 81.0, 100.0, 90.0), new Memory("qemu-tcg", 2, 50.0, 50.0, 50.0)),
                qemu);
        assertTrue(r.notes().contains("qemu-tcg: each memory row is one instance's process, guest RAM included; the "
                + "invoker JVM's own growth per instance, not in them, was 0.00 MiB."), r.notes().toString());
    }

    @Test
    void memorySharedOutWhereProcessesAreNotOnePerInstance() throws IOException {
        ScenarioResult r = map();
        // JVM +4096 KiB, guest 16384 KiB, the rest 82120 KiB: 102600 KiB over 2 instances.
        List<Memory> kvm = r.memory().stream().filter(m -> m.engine().equals("kvm")).toList();
        assertEquals(List.of(new Memory("kvm", 1, 50.1, 48.83, 0.0), new Memory("kvm", 2, 50.1, 48.83, 0.0)), kvm);
        // Beyond the guest's pages: JVM 2 MiB + the processes' 82120 KiB outside guest RAM, per instance.
        assertArrayEquals(new double[]{42.1}, r.samples().get("kvm/overhead-per-instance"));
        // QEMU: 1024 + 51200 and 40960 KiB outside guest RAM, the JVM unchanged.
        assertArrayEquals(new double[]{45.5}, r.samples().get("qemu-tcg/overhead-per-instance"));
        assertTrue(r.notes().contains("kvm: its 2 idle instances ran in 4 processes (4 once jailers count with their "
                + "VMM): each memory row is an equal share of their private memory plus the invoker JVM's growth per "
                + "instance."), r.notes().toString());
    }

    @Test
    void aJailedVmmCountsWithItsJailer() throws IOException {
        JsonNode run = EnginesBench.JSON.readTree("""
                {"memory": {"instances": 2, "none": {"jvm": {"restPrivateDirtyKiB": 1000}},
                  "idle": {"jvm": {"restPrivateDirtyKiB": 3048}, "children": [
                    {"pid": 20, "ppid": 1, "restPrivateDirtyKiB": 100, "restRssKiB": 1000, "restPssKiB": 200},
                    {"pid": 11, "ppid": 10, "guestPrivateDirtyKiB": 1024, "restPrivateDirtyKiB": 2048},
                    {"pid": 10, "ppid": 1, "restPrivateDirtyKiB": 100},
                    {"pid": 21, "ppid": 20, "restPrivateCleanKiB": 1024, "restRssKiB": 2048, "restPssKiB": 1024}]}}}
                """);
        assertEquals(List.of(List.of(11L, 10L), List.of(20L, 21L)), EnginesScenario.instanceGroups(
                run.path("memory").path("idle").path("children")).stream()
                .map(g -> g.stream().map(c -> c.path("pid").asLong()).toList()).toList());
        assertEquals(List.of(new Memory("qemu-kvm", 1, 3.1, 0, 0), new Memory("qemu-kvm", 2, 1.1, 2.98, 1.2)),
                EnginesScenario.memoryRows("qemu-kvm", run));
    }

    @Test
    void otherFunctionsProcessesAreNotTheInstances() throws IOException {
        // The base snapshot's and the cold function's VMM hosts (pids 5, 6) were there before the
        // two instances came, in one new host (8) under its jailer (7).
        JsonNode run = EnginesBench.JSON.readTree("""
                {"engine": "kvm", "memory": {"instances": 2,
                  "none": {"jvm": {"restPrivateDirtyKiB": 1000}, "children": [
                    {"pid": 5, "ppid": 1, "restPrivateDirtyKiB": 50000}, {"pid": 6, "ppid": 1, "restPrivateDirtyKiB": 50000}]},
                  "idle": {"jvm": {"restPrivateDirtyKiB": 1000}, "children": [
                    {"pid": 5, "ppid": 1, "restPrivateDirtyKiB": 51000}, {"pid": 6, "ppid": 1, "restPrivateDirtyKiB": 51000},
                    {"pid": 7, "ppid": 1, "restPrivateDirtyKiB": 100},
                    {"pid": 8, "ppid": 7, "guestPrivateDirtyKiB": 4096, "restPrivateDirtyKiB": 40860, "restRssKiB": 4096}]}}}
                """);
        assertEquals(List.of(7L, 8L), EnginesTable.instanceProcesses(run).stream().map(c -> c.path("pid").asLong())
                .toList());
        // (100 + 4096 + 40860) KiB over 2 instances, the JVM unchanged.
        assertEquals(List.of(new Memory("kvm", 1, 22.0, 2.0, 0), new Memory("kvm", 2, 22.0, 2.0, 0)),
                EnginesScenario.memoryRows("kvm", run));
        assertEquals(20.0, EnginesTable.overheadPerInstance(run).orElseThrow(), 1e-9, "beyond the guest's 2 MiB each");
    }

    @Test
    void nothingMeasuredIsAnError() {
        IOException e = assertThrows(IOException.class, () -> EnginesScenario.from(dir, "path", "host", false));
        assertEquals("no engine-*.json in " + dir + ": the harness measured nothing", e.getMessage());
    }

    @Test
    void roundTripsThroughTheFile() throws IOException {
        ScenarioResult r = map();
        Path f = dir.resolve("path-lab.json");
        r.write(f);
        ScenarioResult back = ScenarioResult.read(f);
        assertEquals(r.memory(), back.memory());
        assertEquals(r.throughput(), back.throughput());
        assertArrayEquals(r.samples().get("qemu-tcg/cold-call"), back.samples().get("qemu-tcg/cold-call"));
        assertFalse(back.table().isEmpty());
    }
}
