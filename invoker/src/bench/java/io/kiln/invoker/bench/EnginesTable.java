package io.kiln.invoker.bench;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Renders {@link EnginesBench}'s raw results (engine-*.json) as one Markdown table, engines side
 * by side, with ratios against the Java engine ({@code kvm}; the first engine when it is
 * absent) and issue 13's goals, each said to be met or not.
 */
final class EnginesTable {

    static final Pattern RUNTIME_READY = Pattern.compile("runtime ready in (\\d+) ms");
    private static final Pattern BASE_READY = Pattern.compile("snapshot \\S*base-\\S+ ready in (\\d+) ms");
    static final Pattern FUNCTION_READY = Pattern.compile("snapshot \\S*functions/\\S+ ready in (\\d+) ms");
    private static final double MIB = 1024;

    private record Row(String label, Function<JsonNode, OptionalDouble> value, String unit) {
    }

    private EnginesTable() {
    }

    static String render(Path dir) throws IOException {
        Map<String, JsonNode> runs = EnginesScenario.read(dir);
        if (runs.isEmpty()) {
            return "no engine-*.json in " + dir + "\n";
        }
        List<String> engines = order(runs.keySet());
        String ref = engines.get(0);
        StringBuilder b = new StringBuilder();
        JsonNode any = runs.get(ref);
        b.append("Machine: ").append(any.path("host").asText()).append('\n');
        for (String e : engines) {
            JsonNode r = runs.get(e);
            b.append("- ").append(e).append(": ").append(r.path("started").asText()).append(" to ")
                    .append(r.path("ended").asText("?")).append(", load average where it ran ")
                    .append(r.path("loadavgStart").asText()).append(" → ").append(r.path("loadavgEnd").asText("?"))
                    .append(hostLoad(dir, r));
            if (r.has("error")) {
                b.append(" — **FAILED** at ").append(r.path("error").asText());
            }
            b.append('\n');
        }
        b.append('\n');
        List<Row> rows = rows();
        b.append("| measure |");
        engines.forEach(e -> b.append(' ').append(e).append(" |"));
        engines.subList(1, engines.size()).forEach(e -> b.append(' ').append(e).append(" / ").append(ref).append(" |"));
        b.append("\n|---|");
        b.append("---:|".repeat(engines.size() * 2 - 1)).append('\n');
        for (Row row : rows) {
            b.append("| ").append(row.label).append(row.unit.isEmpty() ? "" : " (" + row.unit + ")").append(" |");
            OptionalDouble base = row.value.apply(runs.get(ref));
            boolean count = row.unit.equals("n");
            for (String e : engines) {
                OptionalDouble v = row.value.apply(runs.get(e));
                b.append(' ').append(count && v.isPresent() ? Long.toString(Math.round(v.getAsDouble())) : format(v))
                        .append(" |");
            }
            for (String e : engines.subList(1, engines.size())) {
                OptionalDouble v = row.value.apply(runs.get(e));
                b.append(' ').append(!count && v.isPresent() && base.isPresent() && base.getAsDouble() > 0 && v.getAsDouble() > 0
                        ? ratio(v.getAsDouble() / base.getAsDouble()) : "").append(" |");
            }
            b.append('\n');
        }
        b.append('\n').append(goals(runs));
        return b.toString();
    }

    /** kvm first (the reference), then the rest as given. */
    static List<String> order(java.util.Set<String> names) {
        List<String> l = new ArrayList<>(names);
        l.sort((a, c) -> a.equals("kvm") ? -1 : c.equals("kvm") ? 1 : rank(a) - rank(c));
        return l;
    }

    private static int rank(String e) {
        return switch (e) {
            case "qemu-kvm" -> 1;
            case "qemu-tcg" -> 2;
            case "process" -> 3;
            default -> 4;
        };
    }

    private static List<Row> rows() {
        List<Row> r = new ArrayList<>();
        r.add(new Row("boot → READY (the base snapshot's boot)", n -> progress(n.path("deploy"), RUNTIME_READY), "ms"));
        r.add(new Row("base snapshot (after READY)", EnginesTable::baseSnapshot, "ms"));
        r.add(new Row("function snapshot (restore base, RESTORED, LOAD, init, snapshot), first deploy",
                n -> progress(n.path("deploy"), FUNCTION_READY), "ms"));
        r.add(new Row("the same, second function", n -> progress(n.path("deployWarm"), FUNCTION_READY), "ms"));
        r.add(new Row("first deploy, wall (from the jar's upload)", EnginesTable::deployWall, "ms"));
        r.add(new Row("**restore → first RESULT** (start + invoke), p50", n -> cold(n, c -> c.path("startUs").asLong()
                + c.path("invokeUs").asLong()), "ms"));
        r.add(new Row("&nbsp;&nbsp;engine's share: snapshot files → vCPUs running (process: agent spawned), p50",
                n -> cold(n, c -> c.path("engineUs").asLong()), "ms"));
        r.add(new Row("&nbsp;&nbsp;then the agent ready: RESTORED round trip (process: READY + LOAD), p50",
                n -> cold(n, c -> c.path("agentUs").asLong()), "ms"));
        r.add(new Row("&nbsp;&nbsp;&nbsp;&nbsp;of which the agent's RESTORED work (its restoreUs), p50",
                n -> cold(n, c -> c.path("agentWorkUs").asLong()), "ms"));
        r.add(new Row("&nbsp;&nbsp;first INVOKE → RESULT, p50", n -> cold(n, c -> c.path("invokeUs").asLong()), "ms"));
        r.add(new Row("cold call as the caller saw it, p50", n -> cold(n, c -> c.path("latencyUs").asLong()), "ms"));
        r.add(new Row("cold calls measured", n -> n.path("cold").size() == 0 ? OptionalDouble.empty()
                : OptionalDouble.of(n.path("cold").size()), "n"));
        r.add(new Row("warm calls measured (sequential, after 20 warm-up calls)",
                n -> n.path("warm").path("latencyUs").size() == 0 ? OptionalDouble.empty()
                        : OptionalDouble.of(n.path("warm").path("latencyUs").size()), "n"));
        r.add(new Row("warm call p50", n -> warm(n, 50), "ms"));
        r.add(new Row("warm call p99", n -> warm(n, 99), "ms"));
        r.add(new Row("idle instances measured", n -> measuredIdle(n) ? OptionalDouble.of(instances(n))
                : OptionalDouble.empty(), "n"));
        r.add(new Row("**private memory per idle instance**, all of it", EnginesTable::totalPerInstance, "MiB"));
        r.add(new Row("&nbsp;&nbsp;guest RAM, Private_Dirty", n -> guest(n, "guestPrivateDirtyKiB"), "MiB"));
        r.add(new Row("&nbsp;&nbsp;guest RAM, Private_Clean", n -> guest(n, "guestPrivateCleanKiB"), "MiB"));
        r.add(new Row("&nbsp;&nbsp;the QEMU, agent or VMM host processes outside guest RAM", EnginesTable::childRest, "MiB"));
        r.add(new Row("&nbsp;&nbsp;the invoker JVM, per instance (the Java engine's VMM): Private_Dirty + heap",
                EnginesTable::jvmPerInstance, "MiB"));
        r.add(new Row("&nbsp;&nbsp;&nbsp;&nbsp;± the JVM's own drift between the baselines, per instance",
                EnginesTable::jvmDrift, "MiB"));
        return r;
    }

    // ---- values ------------------------------------------------------------------------

    private static OptionalDouble num(JsonNode n) {
        return n.isNumber() ? OptionalDouble.of(n.asDouble()) : OptionalDouble.empty();
    }

    static OptionalDouble progress(JsonNode deploy, Pattern p) {
        for (JsonNode line : deploy.path("progress")) {
            Matcher m = p.matcher(line.path("line").asText());
            if (m.find()) {
                return OptionalDouble.of(Double.parseDouble(m.group(1)));
            }
        }
        return OptionalDouble.empty();
    }

    /**
     * The first deploy's wall time from its first progress line ("receiving the jar"): runs before
     * the harness compiled the fixture jar outside the clock counted that compilation too.
     */
    private static OptionalDouble deployWall(JsonNode n) {
        JsonNode d = n.path("deploy");
        OptionalDouble wall = num(d.path("wallMs"));
        return wall.isEmpty() ? wall : OptionalDouble.of(wall.getAsDouble() - d.path("progress").path(0).path("atMs")
                .asLong(0));
    }

    /** From the "runtime ready" line to the "base snapshot ready" line, as they arrived. */
    static OptionalDouble baseSnapshot(JsonNode n) {
        Long ready = null;
        for (JsonNode line : n.path("deploy").path("progress")) {
            String text = line.path("line").asText();
            if (RUNTIME_READY.matcher(text).find()) {
                ready = line.path("atMs").asLong();
            } else if (ready != null && BASE_READY.matcher(text).find()) {
                return OptionalDouble.of(line.path("atMs").asLong() - ready);
            }
        }
        return OptionalDouble.empty();
    }

    private static OptionalDouble cold(JsonNode n, java.util.function.ToLongFunction<JsonNode> f) {
        List<Long> v = new ArrayList<>();
        for (JsonNode c : n.path("cold")) {
            long x = f.applyAsLong(c);
            if (x >= 0) {
                v.add(x);
            }
        }
        return v.isEmpty() ? OptionalDouble.empty() : OptionalDouble.of(percentile(v, 50) / 1000.0);
    }

    private static OptionalDouble warm(JsonNode n, double p) {
        List<Long> v = new ArrayList<>();
        n.path("warm").path("latencyUs").forEach(x -> v.add(x.asLong()));
        return v.isEmpty() ? OptionalDouble.empty() : OptionalDouble.of(percentile(v, p) / 1000.0);
    }

    static long percentile(List<Long> values, double p) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    static int instances(JsonNode n) {
        return n.path("memory").path("instances").asInt(0);
    }

    static boolean measuredIdle(JsonNode n) {
        return n.path("memory").has("idle") && instances(n) > 0;
    }

    /**
     * The child processes that came with the idle instances: those measured with them and not in
     * the no-instance baseline before. The Java engine's VMM host processes of other functions
     * (the base snapshot's, the cold function's) live on beside them and are not theirs.
     */
    static List<JsonNode> instanceProcesses(JsonNode n) {
        java.util.Set<Long> before = new java.util.HashSet<>();
        n.path("memory").path("none").path("children").forEach(c -> before.add(c.path("pid").asLong()));
        List<JsonNode> theirs = new ArrayList<>();
        n.path("memory").path("idle").path("children").forEach(c -> {
            if (!before.contains(c.path("pid").asLong())) {
                theirs.add(c);
            }
        });
        return theirs;
    }

    /** Guest RAM per instance: mapped into the JVM (kvm) or into each QEMU. */
    private static OptionalDouble guest(JsonNode n, String field) {
        if (!measuredIdle(n) || n.path("engine").asText().equals("process")) {
            return OptionalDouble.empty();
        }
        JsonNode idle = n.path("memory").path("idle");
        double kib = idle.path("jvm").path(field).asDouble() - n.path("memory").path("none").path("jvm").path(field)
                .asDouble();
        for (JsonNode c : instanceProcesses(n)) {
            kib += c.path(field).asDouble();
        }
        return OptionalDouble.of(kib / instances(n) / MIB);
    }

    /**
     * The instances' processes' private memory outside guest RAM, per instance: QEMUs, agent JVMs,
     * or the Java engine's VMM host processes and their jailers (none when its VMs run in the JVM).
     */
    private static OptionalDouble childRest(JsonNode n) {
        List<JsonNode> children = instanceProcesses(n);
        if (!measuredIdle(n) || children.isEmpty()) {
            return OptionalDouble.empty();
        }
        double kib = 0;
        for (JsonNode c : children) {
            kib += c.path("restPrivateCleanKiB").asDouble() + c.path("restPrivateDirtyKiB").asDouble();
        }
        return OptionalDouble.of(kib / instances(n) / MIB);
    }

    /**
     * The invoker JVM's growth per instance outside guest RAM: private dirty memory with the instances
     * minus without (the mean of the baselines before and after, when both were taken), plus the
     * heap in use after a GC (with a pre-touched heap, growth of the heap does not show as private
     * memory), over the number of instances.
     */
    static OptionalDouble jvmPerInstance(JsonNode n) {
        if (!measuredIdle(n)) {
            return OptionalDouble.empty();
        }
        JsonNode m = n.path("memory");
        double baseline = m.has("after") ? (jvmKiB(n, m.path("none")) + jvmKiB(n, m.path("after"))) / 2
                : jvmKiB(n, m.path("none"));
        return OptionalDouble.of((jvmKiB(n, m.path("idle")) - baseline) / instances(n) / MIB);
    }

    /**
     * What an idle instance costs beyond the guest's own pages: the invoker JVM's growth per
     * instance and the child processes' private memory outside guest RAM (QEMU, an agent JVM, or
     * the Java engine's VMM host processes and jailers), per instance.
     */
    static OptionalDouble overheadPerInstance(JsonNode n) {
        OptionalDouble jvm = jvmPerInstance(n);
        return jvm.isEmpty() ? jvm : OptionalDouble.of(jvm.getAsDouble() + childRest(n).orElse(0));
    }

    /** How far the JVM moved by itself between the two baselines, per instance: the error bar of the row above. */
    private static OptionalDouble jvmDrift(JsonNode n) {
        JsonNode m = n.path("memory");
        if (!measuredIdle(n) || !m.has("after")) {
            return OptionalDouble.empty();
        }
        return OptionalDouble.of(Math.abs(jvmKiB(n, m.path("after")) - jvmKiB(n, m.path("none"))) / instances(n) / MIB);
    }

    /**
     * Private_Dirty only: the JVM's Private_Clean is file pages (libjvm.so, the CDS archive, jars)
     * that turn shared and private again as other JVMs map the same files: it fell by 18 MiB when
     * the process engine's agents started, in the first lab run.
     */
    private static double jvmKiB(JsonNode run, JsonNode sample) {
        double kib = sample.path("jvm").path("restPrivateDirtyKiB").asDouble();
        if (run.path("memory").path("preTouchedHeap").asBoolean(false)) {
            kib += sample.path("heapUsedKiB").asDouble();
        }
        return kib;
    }

    private static double rest(JsonNode split) {
        return split.path("restPrivateCleanKiB").asDouble() + split.path("restPrivateDirtyKiB").asDouble();
    }

    static OptionalDouble totalPerInstance(JsonNode n) {
        OptionalDouble jvm = jvmPerInstance(n);
        if (jvm.isEmpty()) {
            return jvm;
        }
        double sum = jvm.getAsDouble();
        for (OptionalDouble part : List.of(guest(n, "guestPrivateDirtyKiB"), guest(n, "guestPrivateCleanKiB"),
                childRest(n))) {
            sum += part.orElse(0);
        }
        return OptionalDouble.of(sum);
    }

    private static String ratio(double r) {
        return r >= 10 ? String.format("%.0fx", r) : r >= 1 ? String.format("%.1fx", r) : String.format("%.2fx", r);
    }

    private static String format(OptionalDouble v) {
        if (v.isEmpty()) {
            return "—";
        }
        double x = v.getAsDouble();
        return x >= 100 ? String.format("%.0f", x) : x >= 10 ? String.format("%.1f", x) : String.format("%.2f", x);
    }

    // ---- goals -------------------------------------------------------------------------

    private static String goals(Map<String, JsonNode> runs) {
        JsonNode kvm = runs.get("kvm");
        JsonNode qemu = runs.get("qemu-kvm");
        JsonNode process = runs.get("process");
        StringBuilder b = new StringBuilder("Issue 13's goals, this run:\n\n");
        b.append(goal("the VMM's own share of a restore (snapshot files → vCPUs running) is at least 10x smaller "
                + "than QEMU's", qemu, kvm, n -> cold(n, c -> c.path("engineUs").asLong()), 10));
        Function<JsonNode, OptionalDouble> toResult = n -> cold(n, c -> c.path("startUs").asLong()
                + c.path("invokeUs").asLong());
        b.append(goal("restore → first RESULT is at least 3x faster than QEMU's", qemu, kvm, toResult, 3));
        b.append(goal("restore → first RESULT is at least 10x faster than the process engine's start (JVM start, "
                + "LOAD, first RESULT)", process, kvm, toResult, 10));
        OptionalDouble overhead = kvm == null ? OptionalDouble.empty() : overheadPerInstance(kvm);
        b.append("- the Java engine's per-instance overhead is under 5 MiB beyond the guest's own pages: ");
        if (overhead.isEmpty()) {
            b.append("**not measured** (").append(kvm == null ? "no kvm run" : kvm.path("error").asText("no memory "
                    + "numbers")).append(")\n");
        } else {
            b.append(String.format("%.2f MiB per instance: **%s**%n", overhead.getAsDouble(),
                    overhead.getAsDouble() < 5 ? "met" : "NOT met"));
        }
        return b.toString();
    }

    private static String goal(String what, JsonNode other, JsonNode kvm, Function<JsonNode, OptionalDouble> f,
                               double factor) {
        String s = "- " + what + ": ";
        if (kvm == null || other == null) {
            return s + "**not measured** (" + (kvm == null ? "no kvm run" : "no " + (other == null ? "comparison"
                    : "") + " run") + ")\n";
        }
        OptionalDouble a = f.apply(other);
        OptionalDouble k = f.apply(kvm);
        if (a.isEmpty() || k.isEmpty()) {
            JsonNode failed = k.isEmpty() ? kvm : other;
            return s + "**not measured** (" + failed.path("engine").asText() + ": "
                    + failed.path("error").asText("no numbers") + ")\n";
        }
        double ratio = a.getAsDouble() / k.getAsDouble();
        return s + String.format("%s %s ms / kvm %s ms = %s: **%s**%n", other.path("engine").asText(),
                format(a), format(k), ratio(ratio), ratio >= factor ? "met" : "NOT met");
    }

    /**
     * The mean and the highest 1-minute load average of the machine that ran the lab while this
     * engine ran, from lab-engines.sh's host-loadavg.txt ("HH:MM:SS load1 load5 load15 ..." every 15 s).
     */
    private static String hostLoad(Path dir, JsonNode run) throws IOException {
        Path file = dir.resolve("host-loadavg.txt");
        String from = run.path("started").asText();
        String to = run.path("ended").asText();
        if (!Files.isRegularFile(file) || from.length() < 19 || to.length() < 19) {
            return "";
        }
        double sum = 0;
        double max = 0;
        int n = 0;
        for (String line : Files.readAllLines(file)) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 1 && f[0].compareTo(from.substring(11, 19)) >= 0 && f[0].compareTo(to.substring(11, 19)) <= 0) {
                double load = Double.parseDouble(f[1]);
                sum += load;
                max = Math.max(max, load);
                n++;
            }
        }
        return n == 0 ? "" : String.format("; the host's 1-min load meanwhile: mean %.1f, max %.1f", sum / n, max);
    }

    /** Where this runs: CPU, cores, memory, kernel, what backs /dev/kvm. */
    static String machine() {
        String cpu = "?";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        } catch (IOException e) {
            // keep "?"
        }
        String kvm = Stream.of("kvm_amd", "kvm_intel", "kvm_pvm").filter(m -> Files.isDirectory(Path.of("/sys/module",
                m))).findFirst().orElse("no kvm module");
        long memMib = Runtime.getRuntime().maxMemory() / (1 << 20);
        return String.format("%s, %d CPU, %s, Linux %s, /dev/kvm: %s, JDK %s (bench JVM heap %d MiB)", cpu,
                Runtime.getRuntime().availableProcessors(), memTotal(), System.getProperty("os.version"), kvm,
                System.getProperty("java.vm.version"), memMib);
    }

    private static String memTotal() {
        try {
            return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
                    .findFirst().map(l -> Long.parseLong(l.replaceAll("\\D", "")) / 1024 + " MiB RAM").orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }
}
