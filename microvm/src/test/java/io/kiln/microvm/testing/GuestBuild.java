package io.kiln.microvm.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
    public static Path build(String name) throws IOException, InterruptedException {
        return build(SOURCES, name, List.of("start.S", name + ".c"), "guest.ld");
    }

    /**
     * Compiles and links {@code files} (C or assembly, relative to {@code sources}) with the linker
     * script {@code linkerScript} into {@code target/guests/<name>.elf}, unless that is newer than
     * every input and every header in {@code sources}. Used by the tests and the benchmarks.
     */
    public static synchronized Path build(Path sources, String name, List<String> files, String linkerScript)
            throws IOException, InterruptedException {
        Path gcc = which("gcc");
        String reason = "gcc not found on PATH: cannot build test guest " + name;
        if (gcc == null) {
            System.out.println("SKIP: " + reason);
        }
        Assumptions.assumeTrue(gcc != null, reason);
        Files.createDirectories(OUT);
        Path elf = OUT.resolve(name + ".elf");
        List<Path> inputs = new ArrayList<>();
        for (String f : files) {
            inputs.add(sources.resolve(f));
        }
        inputs.add(sources.resolve(linkerScript));
        if (Files.exists(elf) && Files.getLastModifiedTime(elf).compareTo(newest(sources, inputs)) > 0) {
            return elf;
        }
        List<String> cmd = new ArrayList<>(List.of(gcc.toString(), "-ffreestanding", "-nostdlib", "-fno-pic", "-no-pie",
                "-mno-red-zone", "-mgeneral-regs-only", "-fno-stack-protector", "-fno-builtin", "-O2", "-static",
                "-Wall", "-Werror", "-Wno-unused-function",
                "-Wl,--build-id=none", "-Wl,-T," + sources.resolve(linkerScript),
                "-o", elf.toString()));
        for (String f : files) {
            cmd.add(sources.resolve(f).toString());
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("building guest " + name + " failed:\n" + out);
        }
        return elf;
    }

    /** The newest modification time among {@code inputs} and the headers next to them. */
    private static FileTime newest(Path sources, List<Path> inputs) throws IOException {
        List<Path> all = new ArrayList<>(inputs);
        try (Stream<Path> headers = Files.list(sources)) {
            headers.filter(h -> h.toString().endsWith(".h")).forEach(all::add);
        }
        FileTime t = FileTime.fromMillis(0);
        for (Path p : all) {
            FileTime m = Files.getLastModifiedTime(p);
            if (m.compareTo(t) > 0) {
                t = m;
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
