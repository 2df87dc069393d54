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
 *                     entropy on stdin (the guest image's {@code /bin/kiln-restore})
 */
public record AgentOptions(boolean guest, Duration frameTimeout, Path workDir, String restoreCommand) {

    public static final Duration DEFAULT_FRAME_TIMEOUT = Duration.ofSeconds(30);

    /** Host-process defaults: not a guest, temporary work directory. */
    public static AgentOptions host() {
        return new AgentOptions(false, DEFAULT_FRAME_TIMEOUT, null, "/bin/kiln-restore");
    }

    public AgentOptions withGuest(boolean g) {
        return new AgentOptions(g, frameTimeout, workDir, restoreCommand);
    }

    public AgentOptions withFrameTimeout(Duration t) {
        return new AgentOptions(guest, t, workDir, restoreCommand);
    }

    public AgentOptions withWorkDir(Path dir) {
        return new AgentOptions(guest, frameTimeout, dir, restoreCommand);
    }

    public AgentOptions withRestoreCommand(String cmd) {
        return new AgentOptions(guest, frameTimeout, workDir, cmd);
    }

    public String mode() {
        return guest ? "guest" : "host";
    }
}
