package io.kiln.agent.restore;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * The two things only a guest may do after a restore: feed the kernel entropy pool and set the
 * wall clock. Never called in host mode: a test run must not touch its host's clock or pool.
 */
public final class GuestSystem {

    /** The outcome of setting the clock. */
    public record ClockResult(boolean set, long targetEpochSeconds, String error) {
    }

    private GuestSystem() {
    }

    /**
     * Writes host entropy to the kernel's pool. A write mixes it in without crediting entropy,
     * and a Linux kernel without VMGenID may keep serving the snapshot's crng state until its
     * next scheduled reseed (see docs/PROTOCOL.md, RESTORED): the JDK-level reseed does not
     * depend on this.
     */
    public static boolean writeEntropy(Path urandom, byte[] entropy) {
        try (OutputStream out = Files.newOutputStream(urandom, StandardOpenOption.WRITE)) {
            out.write(entropy);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Sets the clock with {@code <dateCommand> -s @<seconds>} (busybox date; whole seconds
     * only, so the result is within half a second of {@code epochMillis}).
     */
    public static ClockResult setClock(String dateCommand, long epochMillis) {
        long seconds = Math.floorDiv(epochMillis + 500, 1000);
        try {
            Process p = new ProcessBuilder(dateCommand, "-s", "@" + seconds)
                    .redirectErrorStream(true) // never inherit: fd 1 may be the frame channel
                    .start();
            p.getOutputStream().close();
            byte[] output;
            try (InputStream in = p.getInputStream()) {
                output = in.readNBytes(4096);
            }
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new ClockResult(false, seconds, dateCommand + " did not finish in 5 s");
            }
            return p.exitValue() == 0 ? new ClockResult(true, seconds, null)
                    : new ClockResult(false, seconds, dateCommand + " exited with "
                    + p.exitValue() + ": " + new String(output, StandardCharsets.UTF_8).trim());
        } catch (IOException e) {
            return new ClockResult(false, seconds, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ClockResult(false, seconds, "interrupted");
        }
    }
}
