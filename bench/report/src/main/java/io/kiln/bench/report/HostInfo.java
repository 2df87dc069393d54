package io.kiln.bench.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a benchmark run ran on and what became of each scenario: {@code host.json} in the run's
 * results directory. {@code bench/run-all.sh} writes it with {@code ReportMain host} before the
 * scenarios and records each scenario's outcome with {@code ReportMain status}; the report reads it
 * for its header and for the reason a scenario was not run.
 *
 * <p>The file's fields (JSON, every one always present; {@code null} where unknown):
 * <pre>
 * date         ISO-8601 UTC, when the run began                    "2026-11-30T15:02:11Z"
 * cpuModel     /proc/cpuinfo's first "model name"                  "AMD EPYC 7R13 Processor"
 * cores        online processors                                   2
 * memoryMib    /proc/meminfo's MemTotal in MiB                     24035
 * kvmKind      kvm_pvm | kvm_amd | kvm_intel | none (/sys/module)  "kvm_pvm"
 * jdk          the JVM's name, version and vendor                  "OpenJDK 64-Bit Server VM 17.0.15+6-Debian-1deb12u1 (Debian)"
 * qemu         first line of qemu-system-x86_64 --version, or null
 * guestImage   the guest image's key: KILN_GUEST_DIR's name         "b23cec9695b07c50"
 * guestKernel  linuxSource from KILN_GUEST_DIR/manifest.json        "linux-source-6.1 6.1.192-3"
 * commit       git commit of the tree measured                     "08084ec..."
 * dirty        whether the tree had uncommitted changes            false
 * quick        whether this is a quick run                          true
 * loadAverage  /proc/loadavg's 1-minute load when host.json was written: other work on the
 *              machine distorts every time measured                 0.42
 * scenarios    the scenarios asked for, in order, each
 *              {name, exitStatus, seconds, reason}: exitStatus and seconds are null until the
 *              scenario has run (or if it never ran); reason says why it did not run or failed
 *              ("script missing", "quick mode skips the nested lab", "exit 1: last log line")
 * </pre>
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record HostInfo(String date, String cpuModel, Integer cores, Long memoryMib, String kvmKind, String jdk,
                       String qemu, String guestImage, String guestKernel, String commit, Boolean dirty,
                       Boolean quick, Double loadAverage, List<ScenarioRun> scenarios) {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** One scenario's outcome as run-all.sh saw it. */
    public record ScenarioRun(String name, Integer exitStatus, Double seconds, String reason) {
    }

    public HostInfo {
        scenarios = scenarios == null ? List.of() : List.copyOf(scenarios);
    }

    /** The scenario's outcome, or null if it was not asked for. */
    public ScenarioRun run(String scenario) {
        return scenarios.stream().filter(s -> s.name().equals(scenario)).findFirst().orElse(null);
    }

    /** A copy with {@code scenario}'s outcome recorded (replacing an earlier one, or appended). */
    public HostInfo withRun(ScenarioRun outcome) {
        List<ScenarioRun> runs = new ArrayList<>(scenarios);
        int i = runs.indexOf(run(outcome.name()));
        if (i >= 0) {
            runs.set(i, outcome);
        } else {
            runs.add(outcome);
        }
        return new HostInfo(date, cpuModel, cores, memoryMib, kvmKind, jdk, qemu, guestImage, guestKernel, commit,
                dirty, quick, loadAverage, runs);
    }

    public void write(Path file) throws IOException {
        Files.writeString(file, JSON.writeValueAsString(this) + "\n");
    }

    public static HostInfo read(Path file) throws IOException {
        try {
            return JSON.readValue(file.toFile(), HostInfo.class);
        } catch (IOException e) {
            throw new IOException(file + ": not a host.json (" + firstLine(e.getMessage()) + ")", e);
        }
    }

    static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }

    /**
     * What this JVM can see of the machine, with the values only the caller knows.
     *
     * @param guestDir the guest image's directory (KILN_GUEST_DIR), or null
     */
    public static HostInfo collect(String commit, Boolean dirty, boolean quick, List<String> scenarios, Path guestDir) {
        List<ScenarioRun> runs = scenarios.stream().map(s -> new ScenarioRun(s, null, null, null)).toList();
        return new HostInfo(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), readCpuModel(),
                Runtime.getRuntime().availableProcessors(), readMemoryMib(), kvmKind(Path.of("/sys/module")), runningJdk(),
                qemuVersion(), guestDir == null ? null : guestDir.getFileName().toString(), guestKernel(guestDir),
                commit, dirty, quick, readLoadAverage(), runs);
    }

    static String readCpuModel() {
        return procField(Path.of("/proc/cpuinfo"), "model name");
    }

    static Double readLoadAverage() {
        try {
            return Double.valueOf(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    static Long readMemoryMib() {
        String total = procField(Path.of("/proc/meminfo"), "MemTotal");
        return total == null ? null : Long.parseLong(total.replace("kB", "").trim()) / 1024;
    }

    /** The first {@code name: value} line's value in a /proc file, or null. */
    static String procField(Path file, String name) {
        try {
            for (String line : Files.readAllLines(file)) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equals(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
        } catch (IOException e) {
            // not Linux, or hidden: the report says "unknown"
        }
        return null;
    }

    /**
     * Which KVM module is loaded. kvm_pvm first: on our machines it is the software hypervisor
     * behind /dev/kvm even when the CPU's own module would also load.
     */
    static String kvmKind(Path sysModule) {
        for (String kind : List.of("kvm_pvm", "kvm_amd", "kvm_intel")) {
            if (Files.isDirectory(sysModule.resolve(kind))) {
                return kind;
            }
        }
        return "none";
    }

    static String runningJdk() {
        return System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version") + " ("
                + System.getProperty("java.vendor") + ")";
    }

    static String qemuVersion() {
        String qemu = System.getenv().getOrDefault("KILN_QEMU", "qemu-system-x86_64");
        try {
            Process p = new ProcessBuilder(qemu, "--version").redirectErrorStream(true).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                return null;
            }
            return out.lines().findFirst().orElse(null);
        } catch (IOException e) {
            return null; // not installed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The guest kernel's source package and version, from the image's manifest. */
    static String guestKernel(Path guestDir) {
        if (guestDir == null) {
            return null;
        }
        try {
            JsonNode manifest = JSON.readTree(guestDir.resolve("manifest.json").toFile());
            JsonNode source = manifest.get("linuxSource");
            return source == null ? null : source.asText();
        } catch (IOException e) {
            return null;
        }
    }
}
