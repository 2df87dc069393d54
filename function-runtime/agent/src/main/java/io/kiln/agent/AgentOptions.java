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
 * @param urandom      guest mode: where host entropy is written (the kernel pool)
 * @param dateCommand  guest mode: the command that sets the clock, called as
 *                     {@code <cmd> -s @<epoch seconds>} (busybox {@code date})
 */
public record AgentOptions(boolean guest, Duration frameTimeout, Path workDir, Path urandom,
                           String dateCommand) {

    public static final Duration DEFAULT_FRAME_TIMEOUT = Duration.ofSeconds(30);

    /** Host-process defaults: not a guest, temporary work directory. */
    public static AgentOptions host() {
        return new AgentOptions(false, DEFAULT_FRAME_TIMEOUT, null, Path.of("/dev/urandom"),
                "date");
    }

    public AgentOptions withGuest(boolean g) {
        return new AgentOptions(g, frameTimeout, workDir, urandom, dateCommand);
    }

    public AgentOptions withFrameTimeout(Duration t) {
        return new AgentOptions(guest, t, workDir, urandom, dateCommand);
    }

    public AgentOptions withWorkDir(Path dir) {
        return new AgentOptions(guest, frameTimeout, dir, urandom, dateCommand);
    }

    public AgentOptions withUrandom(Path path) {
        return new AgentOptions(guest, frameTimeout, workDir, path, dateCommand);
    }

    public AgentOptions withDateCommand(String cmd) {
        return new AgentOptions(guest, frameTimeout, workDir, urandom, cmd);
    }

    public String mode() {
        return guest ? "guest" : "host";
    }
}
