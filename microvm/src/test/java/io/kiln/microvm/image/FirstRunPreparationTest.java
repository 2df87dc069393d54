package io.kiln.microvm.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The first run on a new machine: {@code kiln_prepare} (scripts/lib.sh), which ./run.sh and
 * ./test.sh both call, with installers that talk on stdout, as apt-get and Maven do. A fake
 * {@code dpkg-query} says every package is missing, so setup.sh "installs" them all with a fake
 * {@code apt-get}; a fake {@code mvn} stands in for the agent build (the outer build made the
 * jar already, and a nested Maven would rewrite jars this very test JVM has open). The guest
 * image build is the real one, over the real cache: it must find the image ./test.sh prepared
 * and hand back exactly its directory, whatever the installers printed.
 */
class FirstRunPreparationTest {

    @TempDir
    Path dir;

    @Test
    void noisyInstallersOnAFreshMachineDoNotChangeWhichImageIsFound() throws Exception {
        Path expected = GuestImage.locate().directory();
        Path repo = repoRoot();
        Path fakes = Files.createDirectory(dir.resolve("bin"));
        Path aptLog = dir.resolve("apt-get.log");
        script(fakes, "apt-get", """
                echo "apt-get $*" >>'%s'
                echo 'Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]'
                echo 'Reading package lists... Done'
                echo 'W: a warning on stderr' >&2
                """.formatted(aptLog));
        // Missing for setup.sh's install check; every other question goes to the real one
        // (build.sh keys the image by package versions, which must stay what they are).
        script(fakes, "dpkg-query", """
                case "$*" in
                  *'${Status}'*) echo 'deinstall ok config-files'; exit 0 ;;
                esac
                exec /usr/bin/dpkg-query "$@"
                """);
        script(fakes, "sudo", "exec \"$@\"\n");
        script(fakes, "mvn", """
                printf '\\033[0m\\033[0m[INFO] Building the agent\\n'
                echo '[WARNING] on stderr' >&2
                """);

        Path result = dir.resolve("result");
        ProcessBuilder pb = new ProcessBuilder("bash", "-c",
                "set -euo pipefail; . scripts/lib.sh; kiln_prepare; printf '%s' \"$KILN_GUEST_DIR\" >'" + result + "'")
                .directory(repo.toFile());
        Map<String, String> env = pb.environment();
        env.remove(GuestImage.DIR_ENV);
        env.put("PATH", fakes + ":" + env.get("PATH"));
        Process p = pb.start();
        p.getOutputStream().close();
        CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> read(p, true));
        String stdout = read(p, false);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "kiln_prepare did not finish in 5 minutes");
        String err = stderr.get(10, TimeUnit.SECONDS);
        assertEquals(0, p.exitValue(), err);

        assertEquals(expected.toRealPath(), Path.of(Files.readString(result)).toRealPath(), err);
        // Nothing for humans or from the installers reaches stdout; all of it is on stderr.
        assertEquals("", stdout);
        assertTrue(err.contains("Get:1 http://deb.debian.org/debian bookworm InRelease"), err);
        assertTrue(err.contains("[INFO] Building the agent"), err);
        assertTrue(err.contains("[prepare] guest image ready in "), err);
        List<String> apt = Files.readAllLines(aptLog);
        assertEquals("apt-get update -q", apt.get(0));
        assertTrue(apt.get(1).startsWith("apt-get install -y -q --no-install-recommends openjdk-17-jdk-headless maven "
                + "qemu-system-x86 linux-source "), apt.get(1));
        assertEquals(2, apt.size(), apt.toString());
    }

    private static String read(Process p, boolean stderr) {
        try {
            return new String((stderr ? p.getErrorStream() : p.getInputStream()).readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void script(Path dir, String name, String body) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, "#!/usr/bin/env bash\n" + body);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** The checkout: the nearest directory above the module that holds scripts/lib.sh. */
    private static Path repoRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("scripts/lib.sh"))) {
                return d;
            }
        }
        throw new IllegalStateException("no scripts/lib.sh above " + Path.of("").toAbsolutePath());
    }
}
