import io.kiln.microvm.files.FileTrees;
import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.qemu.Accelerator;
import io.kiln.microvm.qemu.QemuGuest;
import io.kiln.microvm.qemu.QemuVmConfig;
import io.kiln.microvm.testing.AgentFrames;
import io.kiln.protocol.RestoredFrame;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agent's RESTORED work, A/B between guest images on the QEMU engine under TCG: boots one
 * base snapshot per image, then restores clones from them in turn (image 1, image 2, ...,
 * again), so that a busy host slows every image alike. Prints each clone's RESTORED ack and,
 * per image, the agent's own time ({@code restoreUs}), its kernel step ({@code kernelUs},
 * where the image's agent reports it) and restore -> ack seen from the host.
 *
 *   bench/restore-ab.sh [--rounds N] IMAGE_DIR...
 */
public final class RestoreAb {

    public static void main(String[] args) throws Exception {
        int rounds = 10;
        List<GuestImage> images = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--rounds")) {
                rounds = Integer.parseInt(args[++i]);
            } else {
                images.add(GuestImage.at(Path.of(args[i])));
            }
        }
        if (images.isEmpty()) {
            throw new IllegalArgumentException("usage: restore-ab.sh [--rounds N] IMAGE_DIR...");
        }
        Path work = Files.createTempDirectory("kiln-restore-ab-");
        try {
            run(rounds, images, work);
        } finally {
            FileTrees.deleteQuietly(work); // snapshots are hundreds of MiB each
        }
    }

    private static void run(int rounds, List<GuestImage> images, Path work) throws Exception {
        List<Path> bases = new ArrayList<>();
        for (GuestImage image : images) {
            Path base = work.resolve(image.id());
            try (QemuGuest g = QemuGuest.boot(new QemuVmConfig(image, Accelerator.TCG, 256, 1, ""), true, l -> { })) {
                g.start();
                g.awaitReady(Duration.ofMinutes(5));
                g.snapshot(base);
            }
            bases.add(base);
        }
        List<List<long[]>> samples = new ArrayList<>(); // per image: {restoreUs, kernelUs, ackMs}
        images.forEach(i -> samples.add(new ArrayList<>()));
        Random random = new Random();
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < images.size(); i++) {
                byte[] entropy = new byte[64];
                random.nextBytes(entropy);
                long start = System.nanoTime();
                try (QemuGuest clone = QemuGuest.restore(bases.get(i), Accelerator.TCG, false, l -> { })) {
                    clone.start();
                    RestoredFrame ack = AgentFrames.restored(clone, entropy);
                    long ackMs = (System.nanoTime() - start) / 1_000_000;
                    samples.get(i).add(new long[] {field(ack, "restoreUs"), field(ack, "kernelUs"), ackMs});
                    System.out.printf("round %d, image %s, restore -> ack %d ms: %s%n", r, images.get(i).id(),
                            ackMs, ack.metadata());
                }
            }
        }
        System.out.println();
        System.out.println("| image | clones | restoreUs median (min-max) ms | kernelUs median (min-max) ms | restore -> ack median (min-max) ms |");
        System.out.println("|---|---:|---:|---:|---:|");
        for (int i = 0; i < images.size(); i++) {
            List<long[]> s = samples.get(i);
            System.out.printf("| %s | %d | %s | %s | %s |%n", images.get(i).id(), s.size(),
                    summary(s, 0, 1000), summary(s, 1, 1000), summary(s, 2, 1));
        }
    }

    private static long field(RestoredFrame ack, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(\\d+)").matcher(ack.metadata());
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    private static String summary(List<long[]> samples, int column, long divisor) {
        List<Long> v = new ArrayList<>();
        samples.forEach(s -> {
            if (s[column] >= 0) {
                v.add(s[column]);
            }
        });
        if (v.isEmpty()) {
            return "-";
        }
        Collections.sort(v);
        return String.format("%d (%d-%d)", v.get((v.size() - 1) / 2) / divisor, v.get(0) / divisor,
                v.get(v.size() - 1) / divisor);
    }
}
