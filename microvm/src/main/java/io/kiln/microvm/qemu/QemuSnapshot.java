package io.kiln.microvm.qemu;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.kiln.microvm.image.GuestImage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A paused QEMU guest on disk: {@code memory} (the guest's RAM, byte for byte, as a sparse
 * file), {@code state} (QEMU's migration stream without RAM: CPU and device state, a few
 * dozen KiB) and {@code snapshot.json} (what it takes to restore it).
 *
 * <p>Restoring maps {@code memory} privately, so the files never change and any number of
 * clones can run from one snapshot at once.
 */
public record QemuSnapshot(Path directory, Info info) {

    /** The format this code writes and reads; a snapshot in any other is refused. */
    public static final int FORMAT = 1;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The restore-relevant facts about a snapshot, as stored in {@code snapshot.json}. */
    public record Info(int format, String engine, String qemuVersion, String imageId, Path imageDirectory,
                       String accelerator, int memoryMib, int vcpus, String kernelCommandLine, String createdAt) {
    }

    public Path memory() {
        return directory.resolve("memory");
    }

    public Path state() {
        return directory.resolve("state");
    }

    /** The guest shape this snapshot must be restored with. */
    public QemuVmConfig config(Accelerator accelerator) {
        GuestImage image = GuestImage.at(info.imageDirectory());
        String prefix = GuestImage.BASE_COMMAND_LINE;
        String extra = info.kernelCommandLine().startsWith(prefix)
                ? info.kernelCommandLine().substring(prefix.length()) : info.kernelCommandLine();
        return new QemuVmConfig(image, accelerator, info.memoryMib(), info.vcpus(), extra);
    }

    static QemuSnapshot write(Path directory, Info info) throws IOException {
        Path tmp = directory.resolve("snapshot.json.tmp");
        JSON.writeValue(tmp.toFile(), info);
        Files.move(tmp, directory.resolve("snapshot.json"));
        return new QemuSnapshot(directory, info);
    }

    /** Reads the snapshot in {@code directory}, refusing incomplete ones and foreign formats. */
    public static QemuSnapshot load(Path directory) {
        Path meta = directory.resolve("snapshot.json");
        if (!Files.isRegularFile(meta)) {
            throw new QemuException("no QEMU snapshot in " + directory + " (snapshot.json missing)");
        }
        Info info;
        try {
            info = JSON.readValue(meta.toFile(), Info.class);
        } catch (IOException e) {
            throw new QemuException("unreadable snapshot metadata " + meta + ": " + e.getMessage(), e);
        }
        if (info.format() != FORMAT || !"qemu".equals(info.engine())) {
            throw new QemuException("snapshot " + directory + " is format " + info.format() + " of engine " + info.engine()
                    + "; this build restores only format " + FORMAT + " of engine qemu");
        }
        QemuSnapshot snapshot = new QemuSnapshot(directory, info);
        for (Path p : new Path[] {snapshot.memory(), snapshot.state()}) {
            if (!Files.isRegularFile(p)) {
                throw new QemuException("snapshot " + directory + " is incomplete: " + p.getFileName() + " missing");
            }
        }
        return snapshot;
    }
}
