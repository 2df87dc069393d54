package io.kiln.microvm.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * A built guest image: the kernel and the initramfs that {@code microvm/guest/build.sh}
 * produced, in a directory named after the hash of every input that went into them.
 *
 * <p>The id is that hash, so anything derived from an image (a base snapshot, say) can be
 * keyed by it and goes stale exactly when the image changes.
 */
public record GuestImage(String id, Path directory, Path kernel, Path initramfs) {

    /** System property naming the image directory; wins over everything else. */
    public static final String DIR_PROPERTY = "kiln.guest.dir";
    /** Environment variable naming the image directory. */
    public static final String DIR_ENV = "KILN_GUEST_DIR";
    /** Environment variable naming the cache root (default {@code ~/.cache/kiln}). */
    public static final String CACHE_ENV = "KILN_CACHE";

    /**
     * Kernel command line every Kiln guest boots with, before the engine adds its device
     * descriptions. {@code reboot=t} makes a guest reboot a triple fault: a CPU reset that
     * every engine sees and turns into the VM stopping (QEMU's microvm machine has no i8042,
     * so a keyboard-controller reset would fall through to a BIOS restart nobody notices).
     * {@code panic=-1} turns a panic into that same reset at once. Mitigations protect
     * processes inside a guest from each other, and a guest runs one process; the host
     * kernel keeps guests apart. {@code quiet} keeps the kernel's boot log (about 20 KB) off
     * the console and still prints its errors and panics: on the Java engine every console
     * byte is a vCPU exit, which the nested lab measured at about 11 s of a 54 s boot.
     */
    public static final String BASE_COMMAND_LINE = "console=ttyS0 quiet reboot=t panic=-1 mitigations=off";

    /**
     * The least guest memory this image boots in: the kernel unpacks the initramfs into RAM
     * while the archive itself is still there, so both fit at once, plus room for the JVM.
     */
    public int minimumMemoryMib() {
        try {
            long initramfsMib = (Files.size(initramfs) + (1 << 20) - 1) >> 20;
            return (int) (2 * initramfsMib + 64);
        } catch (IOException e) {
            throw new GuestImageException("cannot read " + initramfs + ": " + e.getMessage());
        }
    }

    public GuestImage {
        if (!Files.isRegularFile(kernel)) {
            throw new GuestImageException("guest image " + directory + " has no kernel " + kernel.getFileName()
                    + ": rebuild it with microvm/guest/build.sh");
        }
        if (!Files.isRegularFile(initramfs)) {
            throw new GuestImageException("guest image " + directory + " has no " + initramfs.getFileName()
                    + ": rebuild it with microvm/guest/build.sh");
        }
    }

    /** The image in {@code directory}, as build.sh lays it out. */
    public static GuestImage at(Path directory) {
        Path real;
        try {
            real = directory.toRealPath();
        } catch (IOException e) {
            throw new GuestImageException("guest image directory " + directory
                    + " does not exist: build it with microvm/guest/build.sh (./run.sh and ./test.sh do)");
        }
        return new GuestImage(real.getFileName().toString(), real,
                real.resolve("vmlinux"), real.resolve("initramfs.cpio"));
    }

    /**
     * The image this process should use: the {@value #DIR_PROPERTY} system property, else the
     * {@value #DIR_ENV} environment variable, else the newest image build.sh made
     * ({@code $KILN_CACHE/guest/current}).
     */
    public static GuestImage locate() {
        return at(configuredDirectory(System.getProperties().getProperty(DIR_PROPERTY), System.getenv()));
    }

    static Path configuredDirectory(String property, Map<String, String> env) {
        return Optional.ofNullable(property).filter(s -> !s.isBlank())
                .or(() -> Optional.ofNullable(env.get(DIR_ENV)).filter(s -> !s.isBlank()))
                .map(Path::of)
                .orElseGet(() -> cacheRoot(env).resolve("guest").resolve("current"));
    }

    /** Kiln's cache root: {@code $KILN_CACHE}, else {@code $XDG_CACHE_HOME/kiln}, else {@code ~/.cache/kiln}. */
    public static Path cacheRoot(Map<String, String> env) {
        String cache = env.get(CACHE_ENV);
        if (cache != null && !cache.isBlank()) {
            return Path.of(cache);
        }
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("kiln");
    }
}
