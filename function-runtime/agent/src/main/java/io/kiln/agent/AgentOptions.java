package io.kiln.agent;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How the agent runs.
 *
 * @param guest        inside the microVM: RESTORED may set the clock and feed the kernel pool;
 *                     never true on a host
 * @param frameTimeout how long a frame may stall half-read before it counts as truncated (the
 *                     agent must not hang on a peer that stopped mid-frame)
 * @param workDir      where the function jar is unpacked; null for a fresh temporary directory
 * @param restoreCommand guest mode: the command that reseeds the kernel and sets the clock
 *                     after a restore, called as {@code <cmd> <epoch ms>|-} with the host's
 *                     entropy on stdin (the guest image's {@code /bin/kiln-restore}); the
 *                     fallback when no helper is served in {@code restoreServeDir}
 * @param restoreServeDir guest mode: where init's {@code kiln-restore --serve} keeps its
 *                     FIFOs ({@code /run/kiln-restore}); null, or no FIFOs there, means none
 */
public record AgentOptions(boolean guest, Duration frameTimeout, Path workDir, String restoreCommand,
                           Path restoreServeDir) {

    public static final String RESTORE_COMMAND = "/bin/kiln-restore";
    public static final String RESTORE_SERVE_DIR = "/run/kiln-restore";

    public static final Duration DEFAULT_FRAME_TIMEOUT = Duration.ofSeconds(30);

    /** Host-process defaults: not a guest, temporary work directory. */
    public static AgentOptions host() {
        return new AgentOptions(false, DEFAULT_FRAME_TIMEOUT, null, RESTORE_COMMAND, Path.of(RESTORE_SERVE_DIR));
    }

    public AgentOptions withGuest(boolean g) {
        return new AgentOptions(g, frameTimeout, workDir, restoreCommand, restoreServeDir);
    }

    public AgentOptions withFrameTimeout(Duration t) {
        return new AgentOptions(guest, t, workDir, restoreCommand, restoreServeDir);
    }

    public AgentOptions withWorkDir(Path dir) {
        return new AgentOptions(guest, frameTimeout, dir, restoreCommand, restoreServeDir);
    }

    public AgentOptions withRestoreCommand(String cmd) {
        return new AgentOptions(guest, frameTimeout, workDir, cmd, restoreServeDir);
    }

    public AgentOptions withRestoreServeDir(Path dir) {
        return new AgentOptions(guest, frameTimeout, workDir, restoreCommand, dir);
    }

    public String mode() {
        return guest ? "guest" : "host";
    }
}
