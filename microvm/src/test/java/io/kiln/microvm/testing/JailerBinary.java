package io.kiln.microvm.testing;

import io.kiln.microvm.jail.Jailer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The kiln-jailer the tests use: {@code -Dkiln.jailer} (./test.sh passes the one kiln_prepare
 * built), else the one {@code microvm/src/main/c/build.sh} builds into the cache now, so a plain
 * {@code mvn test} tests the jailer of this tree too. A build that fails fails the test.
 */
public final class JailerBinary {

    private static Path built;

    private JailerBinary() {
    }

    public static synchronized Path path() throws IOException, InterruptedException {
        String configured = System.getProperty(Jailer.PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        if (built == null) {
            Path script = repo().resolve("microvm/src/main/c/build.sh");
            Path pathFile = Files.createTempFile("kiln-jailer-path", ".txt");
            try {
                Process p = new ProcessBuilder(script.toString(), "--path-file", pathFile.toString())
                        .redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes());
                if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
                    throw new IOException(script + " failed: " + out);
                }
                built = Path.of(Files.readString(pathFile));
            } finally {
                Files.deleteIfExists(pathFile);
            }
        }
        return built;
    }

    /** The repository root: Maven runs the tests in the module's directory. */
    private static Path repo() {
        Path here = Path.of("").toAbsolutePath();
        return Files.isDirectory(here.resolve("microvm")) ? here : here.getParent();
    }
}
