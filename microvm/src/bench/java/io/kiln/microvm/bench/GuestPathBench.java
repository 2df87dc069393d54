package io.kiln.microvm.bench;

import io.kiln.agent.testing.Fixtures;
import io.kiln.microvm.files.FileTrees;
import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.probe.KvmProbe;
import io.kiln.microvm.qemu.Accelerator;
import io.kiln.microvm.qemu.QemuGuest;
import io.kiln.microvm.qemu.QemuVmConfig;
import io.kiln.microvm.testing.AgentFrames;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.LoadFrame;
import io.kiln.protocol.RestoredFrame;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The guest path on the QEMU engine with the real guest image (kernel + JVM + agent), as the
 * invoker will drive it: boot to READY, base snapshot, function snapshot (restore base, LOAD,
 * init, snapshot), restore to first RESULT, and warm calls on one instance.
 */
public final class GuestPathBench {

    private static final int MEMORY_MIB = 256;

    public static void main(String[] args) throws Exception {
        Accelerator accel = Accelerator.TCG;
        int boots = 3;
        int restores = 15;
        int calls = 1000;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--accel" -> accel = Accelerator.valueOf(args[++i].toUpperCase(Locale.ROOT));
                case "--boots" -> boots = Integer.parseInt(args[++i]);
                case "--restores" -> restores = Integer.parseInt(args[++i]);
                case "--calls" -> calls = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        GuestImage image = GuestImage.locate();
        QemuVmConfig config = new QemuVmConfig(image, accel, MEMORY_MIB, 1, "");
        Path work = Files.createTempDirectory("kiln-guest-bench-");
        try {
            run(accel, boots, restores, calls, image, config, work);
        } finally {
            // Snapshots are hundreds of MiB each.
            FileTrees.deleteQuietly(work);
        }
    }

    private static void run(Accelerator accel, int boots, int restores, int calls, GuestImage image,
                            QemuVmConfig config, Path work) throws Exception {
        byte[] jar = Fixtures.functions();
        List<Samples> rows = new ArrayList<>();

        // 1. Boot to READY, and the base snapshot taken from the first boot.
        Samples boot = new Samples("boot -> READY", "QEMU " + accel, 0);
        Samples baseSnap = new Samples("base snapshot (pause + device state)", "QEMU " + accel, 0);
        Path base = work.resolve("base");
        for (int i = 0; i < boots; i++) {
            long t0 = System.nanoTime();
            try (QemuGuest guest = QemuGuest.boot(config, i == 0, line -> { })) {
                guest.start();
                guest.awaitReady(Duration.ofMinutes(3));
                boot.add(System.nanoTime() - t0);
                if (i == 0) {
                    long t1 = System.nanoTime();
                    guest.snapshot(base);
                    baseSnap.add(System.nanoTime() - t1);
                }
            }
        }
        rows.add(boot);
        rows.add(baseSnap);

        // 2. Function snapshot: restore the base (with a private copy of its memory), LOAD, init, snapshot.
        Samples fnSnap = new Samples("function snapshot (restore base, LOAD, init, snapshot)", "QEMU " + accel, 0);
        Samples init = new Samples("  of which LOAD -> INITIALIZED", "QEMU " + accel, 0);
        Path fn = null;
        for (int i = 0; i < boots; i++) {
            Path dir = work.resolve("fn-" + i);
            long t0 = System.nanoTime();
            try (QemuGuest guest = QemuGuest.restore(base, accel, true, line -> { })) {
                guest.start();
                restored(guest);
                long t1 = System.nanoTime();
                AgentFrames.send(guest, new LoadFrame("{\"handler\":\"com.example.Echo\"}", jar));
                AgentFrames.expect(guest, InitializedFrame.class);
                init.add(System.nanoTime() - t1);
                guest.snapshot(dir);
            }
            fnSnap.add(System.nanoTime() - t0);
            fn = dir;
        }
        rows.add(fnSnap);
        rows.add(init);

        // 3. Restore the function snapshot to its first RESULT (what a cold call costs the VM layer).
        Samples cold = new Samples("restore -> RESTORED ack -> first RESULT", "QEMU " + accel, 2);
        Samples running = new Samples("  of which restore -> vCPUs running", "QEMU " + accel, 2);
        Samples agentRestore = new Samples("  of which the agent's RESTORED work (its restoreUs)", "QEMU " + accel, 2);
        for (int i = 0; i < restores + 3; i++) {
            long t0 = System.nanoTime();
            try (QemuGuest clone = QemuGuest.restore(fn, accel, false, line -> { })) {
                clone.start();
                running.add(System.nanoTime() - t0);
                agentRestore.add(restoreMicros(restored(clone)) * 1000);
                invoke(clone, 1, new byte[16]);
                cold.add(System.nanoTime() - t0);
            }
        }
        rows.add(cold);
        rows.add(running);
        rows.add(agentRestore);

        // 4. Warm calls on one restored instance.
        try (QemuGuest clone = QemuGuest.restore(fn, accel, false, line -> { })) {
            clone.start();
            restored(clone);
            for (int size : new int[] {16, 64 * 1024}) {
                Samples warm = new Samples("warm call, " + (size < 1024 ? size + " B" : size / 1024 + " KiB") + " echo",
                        "QEMU " + accel, 50);
                byte[] body = new byte[size];
                for (int i = 0; i < calls + 51; i++) {
                    long t0 = System.nanoTime();
                    invoke(clone, i + 2L, body);
                    warm.add(System.nanoTime() - t0);
                }
                rows.add(warm);
            }
        }

        System.out.println();
        System.out.println("KVM: " + KvmProbe.probeHost());
        System.out.println("image " + image.id() + ", guest " + MEMORY_MIB + " MiB, 1 vCPU, " + accel);
        System.out.println();
        System.out.println("| measurement | n | min ms | median ms | p99 ms | first run ms |");
        System.out.println("|---|---:|---:|---:|---:|---:|");
        for (Samples s : rows) {
            boolean single = s.n() == 0;
            System.out.printf(Locale.ROOT, "| %s | %d | %s | %s | %s | %.1f |%n", s.scenario, single ? 1 : s.n(),
                    single ? "" : fmt(s.minMs()), single ? "" : fmt(s.medianMs()),
                    single ? "" : fmt(s.percentileMs(99)), s.coldMs());
        }
    }

    private static String fmt(double ms) {
        return String.format(Locale.ROOT, ms < 10 ? "%.2f" : "%.1f", ms);
    }

    private static RestoredFrame restored(QemuGuest guest) throws IOException {
        return AgentFrames.restored(guest, new byte[64]);
    }

    private static long restoreMicros(RestoredFrame ack) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"restoreUs\":(\\d+)").matcher(ack.metadata());
        if (!m.find()) {
            throw new IllegalStateException("RESTORED ack without restoreUs: " + ack.metadata());
        }
        return Long.parseLong(m.group(1));
    }

    private static void invoke(QemuGuest guest, long id, byte[] body) throws IOException {
        AgentFrames.invoke(guest, id, "{}", body);
    }
}
