package io.kiln.bench.report;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report from a fixture run whose samples are known, so every verdict, row and ratio is exact. */
class ReportTest {

    @TempDir
    Path root;
    Path results;
    Path report;

    @BeforeEach
    void fixtureRun() throws IOException {
        results = root.resolve("bench/results/2026-11-30-quick");
        report = root.resolve("docs/BENCHMARKS.md");
        Files.createDirectories(results);
        new HostInfo("2026-11-30T15:00:00Z", "AMD EPYC", 2, 24000L, "kvm_pvm", "OpenJDK 17", "QEMU emulator version 7.2.22",
                "b23cec9695b07c50", "linux-source-6.1 6.1.192-3", "abc123", true, true, 0.5, List.of(
                new HostInfo.ScenarioRun("vmm", 0, 30.0, null),
                new HostInfo.ScenarioRun("path", 0, 120.0, null),
                new HostInfo.ScenarioRun("path-lab", null, null, "quick mode skips the nested lab"),
                new HostInfo.ScenarioRun("gateway", 0, 60.0, null),
                new HostInfo.ScenarioRun("density", null, null, "not run: script missing")))
                .write(results.resolve("host.json"));
        ScenarioResult.builder("vmm", "tiny guest", "host").quick(true)
                .sampled("first-serial-byte", "first serial byte", "kvm", "ms", new double[]{4, 2, 3})
                .sampled("first-serial-byte", "first serial byte", "qemu", "ms", new double[]{61, 60, 62})
                .sampled("restore-128", "restore 128 MiB", "kvm", "ms", new double[]{2})
                .sampled("restore-128", "restore 128 MiB", "qemu", "ms", new double[]{50})
                .sampled("restore-1024", "restore 1 GiB", "kvm", "ms", new double[]{4})
                .sampled("restore-1024", "restore 1 GiB", "qemu", "ms", new double[]{60})
                .note("qemu fell back to -cpu host,-arch-capabilities").table("| harness | table |\n|---|---|\n| a | b |")
                .build().write(results.resolve("vmm.json"));
        Files.writeString(results.resolve("vmm.log"), "the harness's output\n");
        double[] warm = new double[100];
        for (int i = 0; i < warm.length; i++) {
            warm[i] = i + 1; // 1 .. 100 ms
        }
        ScenarioResult.Builder path = ScenarioResult.builder("path", "full path", "host").quick(true)
                .parameter("cold", 3)
                .sampled("boot-to-ready", "boot to READY", "qemu-tcg", "ms", new double[]{12000, 10000})
                .sampled("cold-call", "cold call", "qemu-tcg", "ms", new double[]{900, 500, 700})
                .sampled("warm-call", "warm call", "qemu-tcg", "ms", warm);
        for (int callers : new int[]{1, 2, 8, 32}) {
            path.throughput(new ScenarioResult.Throughput("qemu-tcg", callers, 100.0 + callers, 1000L + callers, 5,
                    20, 40));
        }
        path.build().write(results.resolve("path.json"));
        ScenarioResult.builder("gateway", "gateway", "host")
                .sampled("client-latency", "client latency, bare Vert.x handler", "vertx", "ms", new double[]{0.4, 0.38, 0.5})
                .sampled("client-latency", "client latency through the gateway", "qemu-tcg", "ms", new double[]{6, 5.9, 7})
                .sampled("gateway-own", "gateway's own time", "qemu-tcg", "ms", new double[]{0.4, 0.5, 2.0})
                .build().write(results.resolve("gateway.json"));
    }

    private String generate() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = ReportMain.run(new String[]{"--results", results.toString(), "--report", report.toString(),
                "--notes", root.resolve("docs/BENCHMARKS-NOTES.md").toString()}, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err));
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        try {
            return Files.readString(report);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void verdictsAreExactAndSayWhyNotRun() throws IOException {
        RunResults run = RunResults.read(results);
        List<String> lines = Goals.all().stream().map(g -> g.scenario() + " " + g.judge(run).line()).toList();
        assertEquals(List.of(
                "vmm **NOT met**: first serial byte 20.3x (qemu 61.0 ms / kvm 3.00 ms, p50 of 3 and 3); restore 128 MiB "
                        + "25.0x (qemu 50.0 ms / kvm 2.00 ms, p50 of 1 and 1); restore 1 GiB 15.0x (qemu 60.0 ms / kvm "
                        + "4.00 ms, p50 of 1 and 1), host; goal 20.0x",
                "path **met**: qemu-tcg 14.3x (boot 10000 ms / cold call 700 ms, p50 of 2 and 3), host; goal 10.0x",
                "path-lab not run: quick mode skips the nested lab",
                "path-lab not run: quick mode skips the nested lab",
                "path-lab not run: quick mode skips the nested lab",
                "path-lab not run: quick mode skips the nested lab",
                "gateway **met**: qemu-tcg 0.500 ms (p50 of 3), host; goal under 1.00 ms",
                "density not run: script missing",
                "queue not run: not selected in this run"), lines);
    }

    @Test
    void tablesRatiosAndLinks() {
        String md = generate();
        assertTrue(md.contains("| first serial byte (ms) | p50 | 3.00 | 61.0 |\n|  | p99 | 4.00 | 62.0 |\n"
                + "|  | p99.9 | 4.00 | 62.0 |\n|  | n | 3 | 3 |\n"), md);
        assertTrue(md.contains("| client-latency (ms) | p50 | 0.400 | 6.00 |\n"), "labels differ: the id names the row\n" + md);
        assertTrue(md.contains("| first serial byte, p50 (ms) | qemu / kvm | 61.0 | 3.00 | 20.3x |\n"), md);
        assertTrue(md.contains("| client-latency, p50 (ms) | qemu-tcg / vertx | 6.00 | 0.400 | 15.0x |\n"), md);
        assertTrue(md.contains("| callers | qemu-tcg calls/s | qemu-tcg p50 / p99 ms (calls) |\n|---:|---:|---:|\n"
                + "| 1 | 101 | 5.00 / 20.0 (1001) |\n| 2 | 102 | 5.00 / 20.0 (1002) |\n"), md);
        assertTrue(md.contains("| warm call (ms) | p50 | 50.0 |\n|  | p99 | 99.0 |\n|  | p99.9 | 100 |\n|  | n | 100 |\n"), md);
        assertTrue(md.contains("| [density](#density) | — | " + Goals.of("density").get(0).statement()
                + " | not run: script missing |"), md);
        assertTrue(md.contains("No result in this run: not run: quick mode skips the nested lab."), md);
        assertTrue(md.contains("[vmm.json](../bench/results/2026-11-30-quick/vmm.json), "
                + "[vmm.log](../bench/results/2026-11-30-quick/vmm.log)"), md);
        assertTrue(md.contains("[BENCHMARKS-NOTES.md](BENCHMARKS-NOTES.md)"), md);
        assertTrue(md.contains("![Cold vs warm calls, host (QEMU TCG): solid cold, dashed warm]"
                + "(../bench/results/2026-11-30-quick/figures/cold-warm-host.png)"), md);
        assertTrue(md.contains("*Not drawn: `cold-warm-lab.png` (Cold against warm calls, lab): path-lab: not run: "
                + "quick mode skips the nested lab.*"), md);
        assertTrue(md.contains("*Not drawn: `memory.png`"), md);
        assertTrue(md.contains("- qemu fell back to -cpu host,-arch-capabilities\n"), md);
        assertTrue(md.contains("| commit | abc123 with uncommitted changes |"), md);
        assertTrue(md.contains("| load | 0.5 (1-minute load average when the run began, on 2 cores: "), md);
        assertFalse(md.contains("busy machine"), "load 0.5 on 2 cores is quiet");
        assertTrue(md.contains("Rerun only this: `bench/run-all.sh --scenarios gateway`."), md);
    }

    @Test
    void figuresAreRealPicturesOfTheStatedSize() throws IOException {
        generate();
        Path figures = results.resolve("figures");
        for (String name : List.of("cold-warm-host.png", "throughput-host.png")) {
            BufferedImage image = ImageIO.read(figures.resolve(name).toFile());
            assertEquals(Figures.WIDTH, image.getWidth(), name);
            assertEquals(Figures.HEIGHT, image.getHeight(), name);
            Set<Integer> colours = new HashSet<>();
            for (int y = 0; y < image.getHeight(); y += 3) {
                for (int x = 0; x < image.getWidth(); x += 3) {
                    colours.add(image.getRGB(x, y));
                }
            }
            assertTrue(colours.size() >= 8, name + " has " + colours.size() + " colours: blank?");
        }
        assertFalse(Files.exists(figures.resolve("cold-warm-lab.png")));
        assertFalse(Files.exists(figures.resolve("memory.png")));
    }

    @Test
    void labAndDensityGiveTheMemoryFigureAndTheirGoals() throws IOException {
        ScenarioResult.Builder lab = ScenarioResult.builder("path-lab", "in the lab", "lab")
                .sampled("cold-call", "cold call", "kvm", "ms", new double[]{2000, 3000})
                .sampled("cold-call", "cold call", "qemu-kvm", "ms", new double[]{7000, 6000})
                .sampled("cold-call", "cold call", "process", "ms", new double[]{15000})
                .sampled("restore-engine-share", "the engine's share", "kvm", "ms", new double[]{150})
                .sampled("restore-engine-share", "the engine's share", "qemu-kvm", "ms", new double[]{3000});
        for (int i = 1; i <= 2; i++) {
            lab.memory(new ScenarioResult.Memory("kvm", i, 4 + i, 10, 8));
            lab.memory(new ScenarioResult.Memory("qemu-kvm", i, 14 + i, 30, 20));
        }
        lab.build().write(results.resolve("path-lab.json"));
        ScenarioResult.builder("density", "density", "host").parameter("budgetMib", 1024).parameter("memoryMib", 256)
                .memory(new ScenarioResult.Memory("qemu-tcg", 1, 120, 144, 132))
                .memory(new ScenarioResult.Memory("qemu-tcg", 2, 260, 280, 270))
                .sampled("instances-in-budget", "instances in the budget", "qemu-tcg", "count", new double[]{4})
                .build().write(results.resolve("density.json"));
        RunResults run = RunResults.read(results);
        assertEquals(List.of(
                "**met**: the engine's share of a restore 20.0x (qemu-kvm 3000 ms / kvm 150 ms, p50 of 1 and 1), lab; goal 10.0x",
                "**met**: cold call 3.00x (qemu-kvm 6000 ms / kvm 2000 ms, p50 of 2 and 2), lab; goal 3.00x",
                "**NOT met**: cold call 7.50x (process 15000 ms / kvm 2000 ms, p50 of 1 and 2), lab; goal 10.0x",
                "not measured: no kvm/overhead-per-instance in path-lab.json"),
                Goals.of("path-lab").stream().map(g -> g.judge(run).line()).toList());
        assertEquals("**NOT met**: qemu-tcg: largest of 2 idle instances 260 MiB private, 4 fit in the budget; "
                + "charged 256 MiB each in a 1024 MiB budget, host", Goals.of("density").get(0).judge(run).line());
        String md = generate();
        assertTrue(md.contains("| private MiB per idle instance, mean | qemu-kvm / kvm | 15.5 | 5.50 | 2.82x |\n"), md);
        assertTrue(md.contains("| kvm | 2 | 5.50 (5.00-6.00) | 10.0 | 8.00 |\n"), md);
        assertTrue(md.contains("| instances in the budget (count) | p50 | 4 |\n"), md);
        BufferedImage memory = ImageIO.read(results.resolve("figures/memory.png").toFile());
        assertEquals(Figures.WIDTH, memory.getWidth());
        assertTrue(md.contains("![Private memory per idle instance (smaps), by engine and place]"
                + "(../bench/results/2026-11-30-quick/figures/memory.png)"), md);
        assertTrue(Files.exists(results.resolve("figures/cold-warm-lab.png")));
        assertFalse(Files.exists(results.resolve("figures/throughput-lab.png")), "path-lab has no throughput rows");
        assertTrue(md.contains("*Not drawn: `throughput-lab.png` (Warm calls per second against callers, lab): "
                + "path-lab.json has no throughput rows.*"), md);
    }

    @Test
    void aMalformedResultNamesItsFile() throws IOException {
        Files.writeString(results.resolve("queue.json"), "{\"scenario\": \"queue\", \"metrics\": [oops");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = ReportMain.run(new String[]{"--results", results.toString(), "--report", report.toString()},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err));
        assertEquals(1, status);
        String message = err.toString(StandardCharsets.UTF_8);
        assertTrue(message.startsWith("report: " + results.resolve("queue.json") + ": not a ScenarioResult ("), message);
        assertFalse(Files.exists(report));
    }

    @Test
    void statusRecordsAnOutcomeAndUsageErrorsExit2() throws IOException {
        Path host = results.resolve("host.json");
        assertEquals(0, ReportMain.run(new String[]{"status", "--host", host.toString(), "--scenario", "queue",
                "--exit", "1", "--seconds", "4.5", "--reason", "exit 1: no PostgreSQL"}, System.out, System.err));
        assertEquals(new HostInfo.ScenarioRun("queue", 1, 4.5, "exit 1: no PostgreSQL"), HostInfo.read(host).run("queue"));
        assertEquals("exit 1: no PostgreSQL", RunResults.read(results).whyNotRun("queue"));
        assertEquals("**FAILED**: exit 1: no PostgreSQL", RunResults.read(results).missing("queue").line(),
                "a scenario that ran and left no result failed; it was not merely not run");
        assertEquals("not run: quick mode skips the nested lab", RunResults.read(results).missing("path-lab").line());
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, ReportMain.run(new String[]{"--results", results.toString(), "--bogus", "x"}, System.out,
                new PrintStream(err)));
        assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("report: unknown option --bogus\nusage:"));
    }

    @Test
    void procFieldsAndTheGuestKernelAreReadFromTheirFiles(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("cpuinfo"), "processor\t: 0\nmodel name\t: AMD EPYC 7R13 Processor\n"
                + "processor\t: 1\nmodel name\t: AMD EPYC 7R13 Processor\n");
        assertEquals("AMD EPYC 7R13 Processor", HostInfo.procField(dir.resolve("cpuinfo"), "model name"));
        assertEquals(null, HostInfo.procField(dir.resolve("cpuinfo"), "flags"));
        Path guest = Files.createDirectories(dir.resolve("b23cec9695b07c50"));
        Files.writeString(guest.resolve("manifest.json"), "{\"image\": \"b23cec9695b07c50\", "
                + "\"linuxSource\": \"linux-source-6.1 6.1.192-3\"}");
        HostInfo host = HostInfo.collect("abc", false, true, List.of("vmm", "queue"), guest);
        assertEquals("b23cec9695b07c50", host.guestImage());
        assertEquals("linux-source-6.1 6.1.192-3", host.guestKernel());
        assertEquals(List.of(new HostInfo.ScenarioRun("vmm", null, null, null),
                new HostInfo.ScenarioRun("queue", null, null, null)), host.scenarios());
    }

    @Test
    void aBusyMachineIsSaidAtTheTop() throws IOException {
        HostInfo quiet = HostInfo.read(results.resolve("host.json"));
        new HostInfo(quiet.date(), quiet.cpuModel(), 2, quiet.memoryMib(), quiet.kvmKind(), quiet.jdk(), quiet.qemu(),
                quiet.guestImage(), quiet.guestKernel(), quiet.commit(), quiet.dirty(), quiet.quick(), 8.25,
                quiet.scenarios()).write(results.resolve("host.json"));
        assertTrue(generate().contains("**This run was made on a busy machine** (load average 8.25 on 2 cores when "
                + "it began)"));
    }

    @Test
    void kvmKindComesFromTheLoadedModule(@TempDir Path sys) throws IOException {
        assertEquals("none", HostInfo.kvmKind(sys));
        Files.createDirectories(sys.resolve("kvm_amd"));
        assertEquals("kvm_amd", HostInfo.kvmKind(sys));
        Files.createDirectories(sys.resolve("kvm_pvm"));
        assertEquals("kvm_pvm", HostInfo.kvmKind(sys), "the software hypervisor is what /dev/kvm is when loaded");
    }
}
