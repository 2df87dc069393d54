package io.kiln.agent.restore;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * What only a guest may do after a restore: reseed the kernel's random generator from the
 * host's entropy and set the wall clock. Both are one run of the guest image's
 * {@code kiln-restore} (credit the entropy, force a crng reseed, {@code clock_settime}):
 * a write to /dev/urandom alone would leave every clone serving the snapshot's crng state.
 * Never called in host mode: a test run must not touch its host's clock or pool.
 */
public final class GuestSystem {

    /** The outcome; {@code error} is null on success. */
    public record Result(boolean ok, String error) {
    }

    static final int TIMEOUT_SECONDS = 5;

    private GuestSystem() {
    }

    /**
     * Runs {@code <command> <epochMillis>} (or {@code -} to leave the clock alone) with the
     * entropy on its stdin.
     */
    public static Result restore(String command, byte[] entropy, Long epochMillis) {
        String clock = epochMillis == null ? "-" : Long.toString(epochMillis);
        Path output = null;
        try {
            // Output goes to a file, not a pipe: reading a pipe would block until the command
            // ends, so a hung command would never meet the deadline below.
            output = Files.createTempFile("kiln-restore", ".out");
            Process p = new ProcessBuilder(command, clock)
                    .redirectErrorStream(true) // never inherit: fd 1 may be the frame channel
                    .redirectOutput(output.toFile())
                    .start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(entropy);
            } catch (IOException e) {
                // A command that exits without reading its input breaks the pipe; its exit
                // status and output below say what went wrong.
            }
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(false, command + " did not finish in " + TIMEOUT_SECONDS + " s");
            }
            if (p.exitValue() == 0) {
                return new Result(true, null);
            }
            byte[] said = Files.readAllBytes(output);
            return new Result(false, command + " exited with " + p.exitValue() + ": "
                    + new String(said, 0, Math.min(said.length, 4096), StandardCharsets.UTF_8).trim());
        } catch (IOException e) {
            return new Result(false, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(false, "interrupted");
        } finally {
            if (output != null) {
                try {
                    Files.deleteIfExists(output);
                } catch (IOException ignored) {
                    // A temp file in the guest's tmpfs; nothing to recover.
                }
            }
        }
    }
}
