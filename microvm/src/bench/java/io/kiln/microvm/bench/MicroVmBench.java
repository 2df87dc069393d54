package io.kiln.microvm.bench;

import io.kiln.bench.report.ScenarioResult;
import io.kiln.microvm.probe.KvmProbe;
import io.kiln.microvm.probe.KvmProbeResult;
import io.kiln.microvm.qemu.QemuBinary;
import io.kiln.microvm.testing.GuestBuild;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Java KVM engine vs {@code qemu-system-x86_64 -M microvm}, same tiny guest, side by side in one
 * run: VM creation to the guest's first UART byte, and snapshot restore to the restored guest's
 * next byte at each memory size. Iterations of the engines alternate, so drift on the host hits
 * both alike. Run by {@code bench/microvm.sh}; not part of {@code mvn test}.
 *
 * <p>Options: {@code --iterations N} (measured runs per row, default 40), {@code --warmup N}
 * (runs dropped after the first, default 3), {@code --sizes 128,1024} (restore sizes in MiB),
 * {@code --qemu-accel auto|kvm|tcg}, {@code --out FILE} (also write the results as Markdown),
 * {@code --json FILE} (also write them as a {@link ScenarioResult}, scenario {@code vmm}, for
 * {@code bench/run-all.sh}), {@code --quick} (5 runs per row after 1 warm-up, unless given).
 */
public final class MicroVmBench {
    private static final int BOOT_MIB = 128;
    /** Before a snapshot, guest RAM from here up (clear of the guest at 1 MiB) is filled with {@link #FILL_BYTE}. */
    static final long FILL_FROM = 2L << 20;
    static final byte FILL_BYTE = 0x5a;
    private static final double GOAL = 20.0;

    private Integer iterations;
    private Integer warmup;
    private boolean quick;
    private Path json;
    private List<Integer> sizes = List.of(128, 1024);
    private String qemuAccel = "auto";
    private Path out;

    public static void main(String[] args) throws Exception {
        MicroVmBench b = new MicroVmBench();
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : "";
            switch (args[i]) {
                case "--iterations" -> { b.iterations = Integer.parseInt(v); i++; }
                case "--warmup" -> { b.warmup = Integer.parseInt(v); i++; }
                case "--sizes" -> { b.sizes = Stream.of(v.split(",")).map(String::trim).map(Integer::valueOf).toList(); i++; }
                case "--qemu-accel" -> { b.qemuAccel = v; i++; }
                case "--out" -> { b.out = Path.of(v); i++; }
                case "--json" -> { b.json = Path.of(v); i++; }
                case "--quick" -> b.quick = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (know --iterations, --warmup, --sizes, --qemu-accel, --out, --json, --quick)");
            }
        }
        // Counts given on the command line win over --quick's.
        if (b.iterations == null) {
            b.iterations = b.quick ? 5 : 40;
        }
        if (b.warmup == null) {
            b.warmup = b.quick ? 1 : 3;
        }
        b.run();
        // Non-daemon threads the engines may leave behind must not keep the benchmark alive.
        System.exit(0);
    }

    private void run() throws Exception {
        KvmProbeResult kvm = KvmProbe.probeHost();
        if (!kvm.usable()) {
            throw new IllegalStateException("the Java KVM engine needs /dev/kvm: " + kvm);
        }
        Path built = GuestBuild.build(Path.of("src/bench/guests"), "tiny_guest", List.of("tiny_guest.S"), "tiny.ld");
        Path qemuPath = QemuBinary.locate();
        Path work = Files.createTempDirectory("kiln-bench-");
        try {
            // Both engines read the guest on every start; a private copy survives a `mvn clean` meanwhile.
            Path guest = Files.copy(built, work.resolve("tiny_guest.elf"));
            run(kvm, guest, qemuPath, work);
        } finally {
            deleteRecursively(work);
        }
    }

    private void run(KvmProbeResult kvm, Path guest, Path qemuPath, Path work) throws Exception {
        Environment env = Environment.of(kvm, qemuPath);
        System.out.println(env.describe());
        System.out.println("guest: src/bench/guests/tiny_guest.S, " + Files.size(guest) + " bytes of ELF");

        QemuBench.Accel accel = chooseAccel(qemuPath, guest, work);
        QemuBench qemu = new QemuBench(qemuPath, guest, work, accel);
        KvmEngineBench java = new KvmEngineBench(guest);
        String qemuName = accel.kvm() ? "QEMU" : "QEMU (TCG!)";

        List<Samples> rows = new ArrayList<>();
        System.out.printf("boot: %d+%d+1 runs each ...%n", iterations, warmup);
        Samples javaBoot = new Samples("create → first byte, " + BOOT_MIB + " MiB", "Java KVM engine", warmup);
        Samples javaBootVirtio = new Samples("create → first byte, " + BOOT_MIB + " MiB", "Java KVM engine + virtio console, rng", warmup);
        Samples qemuBoot = new Samples("process start → first byte, " + BOOT_MIB + " MiB", qemuName, warmup);
        for (int i = 0; i < iterations + warmup + 1; i++) {
            javaBoot.add(java.boot(BOOT_MIB, false));
            qemuBoot.add(qemu.boot(BOOT_MIB));
            javaBootVirtio.add(java.boot(BOOT_MIB, true));
        }
        rows.addAll(List.of(javaBoot, javaBootVirtio, qemuBoot));

        ScenarioResult.Builder result = ScenarioResult.builder("vmm",
                "Java KVM engine vs QEMU -M microvm, same tiny guest: create → first serial byte, snapshot restore → running",
                "host").quick(quick).parameter("iterations", iterations).parameter("warmup", warmup)
                .parameter("sizesMib", sizes).parameter("bootMib", BOOT_MIB).parameter("qemuAccel", accel.toString())
                .environment("kvm", kvm.kind() + " — " + kvm.reason()).environment("qemu", env.qemu())
                .environment("qemuBootCommand", qemu.bootCommand(BOOT_MIB));
        // QEMU under TCG is another engine than QEMU with KVM: its numbers must not pass for "qemu".
        String qemuEngine = accel.kvm() ? "qemu" : "qemu-tcg";
        if (!accel.kvm()) {
            result.note("QEMU could not use KVM on this host: its rows are TCG (emulation), engine qemu-tcg, not qemu.");
        }
        result.sampled("first-serial-byte", "create → first serial byte, " + BOOT_MIB + " MiB", "kvm", "ms", javaBoot.warmMs());
        result.sampled("first-serial-byte-virtio", "create → first serial byte, " + BOOT_MIB + " MiB, with virtio console and rng",
                "kvm", "ms", javaBootVirtio.warmMs());
        result.sampled("first-serial-byte", "process start → first serial byte, " + BOOT_MIB + " MiB", qemuEngine, "ms",
                qemuBoot.warmMs());

        List<Samples[]> restores = new ArrayList<>();
        for (int mib : sizes) {
            String size = mib >= 1024 && mib % 1024 == 0 ? (mib / 1024) + " GiB" : mib + " MiB";
            Path javaSnap = work.resolve("java-" + mib);
            Path sharedSnap = work.resolve("qemu-shared-" + mib);
            Path streamSnap = work.resolve("qemu-stream-" + mib);
            System.out.printf("restore %s: taking snapshots ...%n", size);
            java.snapshot(mib, javaSnap);
            qemu.snapshot(mib, QemuBench.RamMode.SHARED_FILE, sharedSnap);
            qemu.snapshot(mib, QemuBench.RamMode.IN_STREAM, streamSnap);
            System.out.printf("restore %s: snapshot sizes: Java %s, QEMU x-ignore-shared %s + %s, QEMU in-stream %s%n", size,
                    sizes(javaSnap), sizes(sharedSnap.resolve("state")), sizes(sharedSnap.resolve("memory")), sizes(streamSnap));
            Samples j = new Samples("restore → running, " + size, "Java KVM engine", warmup);
            Samples jCall = new Samples("restore → running, " + size, "Java KVM engine: its KvmSnapshots.restore() part", warmup);
            Samples qShared = new Samples("restore → running, " + size, qemuName + ", file RAM + x-ignore-shared (as Kiln)", warmup);
            Samples qStream = new Samples("restore → running, " + size, qemuName + ", RAM in migration stream", warmup);
            System.out.printf("restore %s: %d+%d+1 runs each ...%n", size, iterations, warmup);
            for (int i = 0; i < iterations + warmup + 1; i++) {
                KvmEngineBench.Restore r = java.restore(javaSnap);
                j.add(r.running());
                jCall.add(r.restored());
                qShared.add(qemu.restore(mib, QemuBench.RamMode.SHARED_FILE, sharedSnap, work.resolve("scratch")));
                qStream.add(qemu.restore(mib, QemuBench.RamMode.IN_STREAM, streamSnap, work.resolve("scratch")));
            }
            rows.addAll(List.of(j, jCall, qShared, qStream));
            result.sampled("restore-" + mib, "snapshot restore → running, " + size, "kvm", "ms", j.warmMs());
            result.sampled("restore-" + mib + "-call", "its KvmSnapshots.restore() part, " + size, "kvm", "ms", jCall.warmMs());
            result.sampled("restore-" + mib, "snapshot restore → running, " + size + ", file RAM + x-ignore-shared (as Kiln runs it)",
                    qemuEngine, "ms", qShared.warmMs());
            result.sampled("restore-" + mib + "-in-stream", "snapshot restore → running, " + size + ", RAM in the migration stream",
                    qemuEngine, "ms", qStream.warmMs());
            restores.add(new Samples[] {j, qShared, qStream});
            deleteRecursively(javaSnap);
            deleteRecursively(sharedSnap);
            deleteRecursively(streamSnap);
        }

        Report report = new Report(env, accel, qemu.bootCommand(BOOT_MIB), iterations, warmup, rows, GOAL);
        report.ratio("create → first byte (" + BOOT_MIB + " MiB)", javaBoot, qemuBoot);
        for (Samples[] r : restores) {
            report.ratio(r[0].scenario + ", QEMU as Kiln runs it", r[0], r[1]);
            report.ratio(r[0].scenario + ", QEMU default migration", r[0], r[2]);
        }
        if (restores.size() >= 2) {
            Samples[] small = restores.get(0);
            Samples[] big = restores.get(restores.size() - 1);
            report.flatness("Java KVM engine", small[0], big[0]);
            report.flatness("QEMU, file RAM + x-ignore-shared", small[1], big[1]);
            report.flatness("QEMU, RAM in migration stream", small[2], big[2]);
        }
        PrintStream o = System.out;
        o.println();
        o.println(report.text());
        if (out != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, report.markdown());
            o.println("Markdown written to " + out.toAbsolutePath());
        }
        if (json != null) {
            result.note("The first run of each row (in a fresh JVM) is not among the samples; the table's \"first run\" column has it.");
            result.table(report.markdown()).build().write(json);
            o.println("JSON written to " + json.toAbsolutePath());
        }
    }

    private QemuBench.Accel chooseAccel(Path qemuPath, Path guest, Path work) throws IOException, InterruptedException {
        List<QemuBench.Accel> candidates = new ArrayList<>();
        if (!qemuAccel.equals("tcg")) {
            candidates.add(new QemuBench.Accel("kvm", "host"));
            // kvm_pvm refuses QEMU's write of IA32_ARCH_CAPABILITIES (MSR 0x10a) for -cpu host.
            candidates.add(new QemuBench.Accel("kvm", "host,-arch-capabilities"));
        }
        if (!qemuAccel.equals("kvm")) {
            candidates.add(new QemuBench.Accel("tcg", "max"));
        }
        for (QemuBench.Accel a : candidates) {
            String failure = new QemuBench(qemuPath, guest, work, a).tryBoot(Duration.ofSeconds(20));
            if (failure == null) {
                if (!a.kvm()) {
                    System.out.println("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
                    System.out.println("!!! QEMU IS NOT USING KVM ON THIS HOST: its numbers below are TCG (emulation) !!!");
                    System.out.println("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
                }
                System.out.println("QEMU accelerator: " + a);
                return a;
            }
            System.out.println("QEMU with " + a + " does not run the guest: " + failure);
        }
        throw new IllegalStateException("QEMU cannot run the guest with any of " + candidates);
    }

    /** Apparent size of a file or directory, and what it occupies on disk if much less (sparse files). */
    private static String sizes(Path p) throws IOException, InterruptedException {
        long apparent = 0;
        try (Stream<Path> files = Files.walk(p)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                apparent += Files.size(f);
            }
        }
        Process du = new ProcessBuilder("du", "-sk", p.toString()).redirectErrorStream(true).start();
        String out = new String(du.getInputStream().readAllBytes()).trim();
        du.waitFor();
        long allocated = out.matches("\\d+\\s.*") ? Long.parseLong(out.split("\\s")[0]) * 1024 : apparent;
        return human(apparent) + (allocated < apparent / 2 ? " (" + human(allocated) + " on disk)" : "");
    }

    static String human(long bytes) {
        if (bytes >= 1 << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1 << 30));
        }
        if (bytes >= 1 << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
        }
        return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Where the numbers were taken. */
    record Environment(int cores, String cpu, KvmProbeResult kvm, String jdk, String qemu, String kernel, String when) {
        static Environment of(KvmProbeResult kvm, Path qemuPath) throws IOException, InterruptedException {
            String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("?");
            String jdk = System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version");
            String kernel = Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
            return new Environment(Runtime.getRuntime().availableProcessors(), cpu, kvm, jdk, QemuBench.version(qemuPath), kernel,
                    Instant.now().toString());
        }

        String describe() {
            return String.join("\n",
                    "machine: " + cores + " cores, " + cpu + ", Linux " + kernel,
                    "KVM: " + kvm.kind() + " — " + kvm.reason(),
                    "JDK: " + jdk,
                    "QEMU: " + qemu,
                    "run at: " + when);
        }
    }
}
