package io.kiln.agent;

/** The agent's process exit codes; the host reads them when the channel goes quiet. */
public final class ExitCodes {

    /** SHUTDOWN received, or the host closed the channel between frames. */
    public static final int CLEAN = 0;
    /** A bug in the agent: an invariant broke. Reported as ERROR {@code agent_bug} first. */
    public static final int AGENT_BUG = 1;
    /** The host broke the protocol beyond recovery (bad magic, version, truncated frame). */
    public static final int PROTOCOL = 2;
    /** The function broke the JVM (OutOfMemoryError, InternalError). Reported as {@code fatal}. */
    public static final int FATAL = 3;
    /** The channel failed (write error, read error other than end of stream). */
    public static final int CHANNEL = 4;
    /** Bad command line. */
    public static final int USAGE = 64;

    private ExitCodes() {
    }
}
