package io.kiln.agent.restore;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * What only a guest may do after a restore: reseed the kernel's random generator from the
 * host's entropy and set the wall clock. The guest image's {@code kiln-restore} does both
 * (credit the entropy, force a crng reseed, {@code clock_settime}): a write to /dev/urandom
 * alone would leave every clone serving the snapshot's crng state.
 *
 * <p>Two ways to reach it, one implementation of the work (in C):
 * <ul>
 *   <li><b>served</b>: the copy init started before the agent ({@code kiln-restore --serve}),
 *       already running inside the snapshot; one request over its FIFOs
 *       ({@link ServedHelper}). No process start, which in a just-restored guest faults in
 *       every page the new process touches.</li>
 *   <li><b>exec</b>: {@code <command> <epoch ms>|-} with the entropy on stdin. Used when no
 *       helper is served (host-mode tests, an image without it), and from the first time the
 *       served one fails to answer well-formed in time: it is then closed and never asked
 *       again, since its FIFOs may hold half an exchange.</li>
 * </ul>
 * Never used in host mode: a test run must not touch its host's clock or pool. Not
 * thread-safe: restores run one at a time on the function thread.
 */
public final class GuestSystem {

    /**
     * The outcome: {@code via} is {@code served} or {@code exec}; {@code error} is null on
     * success; {@code servedError} says why the served helper was given up (then {@code via}
     * is {@code exec}), else null.
     */
    public record Result(boolean ok, String via, String error, String servedError) {
    }

    static final int TIMEOUT_SECONDS = 5;
    /** The served helper's answer should take milliseconds; past this it is given up. */
    static final long SERVED_TIMEOUT_MS = 2_000;

    private final String command;
    private ServedHelper served;

    private GuestSystem(String command, ServedHelper served) {
        this.command = command;
        this.served = served;
    }

    /**
     * At agent start, before any snapshot (so the open FIFOs are in every snapshot): uses the
     * helper served in {@code servedDir} if there is one, else {@code command}.
     */
    public static GuestSystem open(String command, Path servedDir) {
        ServedHelper helper;
        try {
            helper = ServedHelper.open(servedDir);
        } catch (IOException e) {
            helper = null; // an unusable helper is an absent one
        }
        return new GuestSystem(command, helper);
    }

    /** Whether restores go to a served helper (until it fails). */
    public boolean served() {
        return served != null;
    }

    /**
     * Reseeds the kernel from {@code entropy} and, unless {@code epochMillis} is null, sets the
     * clock to it plus the time since {@code sinceNanos}.
     *
     * @param timeoutMillis the restore's whole deadline; the served helper gets at most half
     *                      of it, so the exec fallback still fits
     */
    public Result restore(byte[] entropy, Long epochMillis, long sinceNanos, long timeoutMillis) {
        String servedError = null;
        if (served != null) {
            try {
                ServedHelper.Reply r = served.call(entropy, now(epochMillis, sinceNanos),
                        Math.max(1, Math.min(SERVED_TIMEOUT_MS, timeoutMillis / 2)));
                return new Result(r.status() == 0, "served", r.status() == 0 ? null
                        : "served kiln-restore failed with status " + r.status() + ": " + r.message(), null);
            } catch (InterruptedIOException e) {
                // The restore's deadline passed; a late reply is recognised by its id.
                return new Result(false, "served", e.getMessage(), null);
            } catch (IOException e) {
                servedError = e.getMessage();
                try {
                    served.close();
                } catch (IOException ignored) {
                    // closing FIFOs we give up on; nothing to recover
                }
                served = null;
            }
        }
        Result r = exec(command, entropy, now(epochMillis, sinceNanos));
        return new Result(r.ok(), r.via(), r.error(), servedError);
    }

    private static Long now(Long epochMillis, long sinceNanos) {
        return epochMillis == null ? null : epochMillis + (System.nanoTime() - sinceNanos) / 1_000_000;
    }

    /**
     * Runs {@code <command> <epochMillis>} (or {@code -} to leave the clock alone) with the
     * entropy on its stdin.
     */
    static Result exec(String command, byte[] entropy, Long epochMillis) {
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
                return failed(command + " did not finish in " + TIMEOUT_SECONDS + " s");
            }
            if (p.exitValue() == 0) {
                return new Result(true, "exec", null, null);
            }
            byte[] said = Files.readAllBytes(output);
            return failed(command + " exited with " + p.exitValue() + ": "
                    + new String(said, 0, Math.min(said.length, 4096), StandardCharsets.UTF_8).trim());
        } catch (IOException e) {
            return failed(e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed("interrupted");
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

    private static Result failed(String error) {
        return new Result(false, "exec", error, null);
    }
}
