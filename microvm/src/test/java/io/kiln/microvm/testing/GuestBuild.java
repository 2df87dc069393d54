package io.kiln.microvm.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Builds a test guest from {@code src/test/guests} with gcc into {@code target/guests}: a
 * freestanding ELF linked at 1 MiB that the VMM loads like a vmlinux.
 */
public final class GuestBuild {
    private static final Path SOURCES = Path.of("src/test/guests");
    private static final Path OUT = Path.of("target/guests");

    private GuestBuild() {
    }

    /** Compiles {@code start.S} + {@code <name>.c}; skips the calling test (with a printed reason) if gcc is missing. */
    public static synchronized Path build(String name) throws IOException, InterruptedException {
        Path gcc = which("gcc");
        String reason = "gcc not found on PATH: cannot build test guest " + name;
        if (gcc == null) {
            System.out.println("SKIP: " + reason);
        }
        Assumptions.assumeTrue(gcc != null, reason);
        Files.createDirectories(OUT);
        Path elf = OUT.resolve(name + ".elf");
        Path src = SOURCES.resolve(name + ".c");
        if (Files.exists(elf) && Files.getLastModifiedTime(elf).compareTo(newest(src)) > 0) {
            return elf;
        }
        List<String> cmd = new ArrayList<>(List.of(gcc.toString(), "-ffreestanding", "-nostdlib", "-fno-pic", "-no-pie",
                "-mno-red-zone", "-mgeneral-regs-only", "-fno-stack-protector", "-fno-builtin", "-O2", "-static",
                "-Wall", "-Werror", "-Wno-unused-function",
                "-Wl,--build-id=none", "-Wl,-T," + SOURCES.resolve("guest.ld"),
                "-o", elf.toString(), SOURCES.resolve("start.S").toString(), src.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("building guest " + name + " failed:\n" + out);
        }
        return elf;
    }

    private static java.nio.file.attribute.FileTime newest(Path src) throws IOException {
        java.nio.file.attribute.FileTime t = Files.getLastModifiedTime(src);
        for (String f : new String[] {"start.S", "kiln.h", "guest.ld", "virtio.h"}) {
            Path p = SOURCES.resolve(f);
            if (Files.exists(p) && Files.getLastModifiedTime(p).compareTo(t) > 0) {
                t = Files.getLastModifiedTime(p);
            }
        }
        return t;
    }

    static Path which(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
