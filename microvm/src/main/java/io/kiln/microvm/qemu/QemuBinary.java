package io.kiln.microvm.qemu;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/** Finds {@code qemu-system-x86_64}: {@code $KILN_QEMU} if set, else the first on {@code PATH}. */
public final class QemuBinary {

    public static final String ENV = "KILN_QEMU";
    static final String NAME = "qemu-system-x86_64";

    private QemuBinary() {
    }

    /** The QEMU executable, or a {@link QemuException} that says how to install it. */
    public static Path locate() {
        return find(System.getenv()).orElseThrow(() -> new QemuException(NAME + " not found on PATH"
                + " (set " + ENV + " to its path, or install it: sudo apt-get install qemu-system-x86;"
                + " scripts/setup.sh does this)"));
    }

    static Optional<Path> find(Map<String, String> env) {
        String explicit = env.get(ENV);
        if (explicit != null && !explicit.isBlank()) {
            Path p = Path.of(explicit);
            if (!Files.isExecutable(p)) {
                throw new QemuException(ENV + "=" + explicit + " is not an executable file");
            }
            return Optional.of(p);
        }
        String path = env.getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, NAME);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
