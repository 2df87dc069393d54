package io.kiln.invoker.instance;

/**
 * Why an instance could not answer. Every kind except {@link Kind#AGENT_ERROR} with a
 * "serving" code means the instance is gone (destroyed) and must not be used again.
 */
public final class InstanceFailure extends RuntimeException {

    public enum Kind {
        /** No answer before the host's deadline; the instance was destroyed. */
        TIMEOUT,
        /** The VM or agent stopped (crash, panic, exit, channel closed). */
        CRASHED,
        /** The guest broke the protocol (garbage, an oversized or unexpected frame). */
        PROTOCOL,
        /** The instance was destroyed by the host while waiting (shutdown, eviction). */
        DESTROYED
    }

    private final Kind kind;
    private final String consoleTail;

    public InstanceFailure(Kind kind, String message, String consoleTail, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.consoleTail = consoleTail;
    }

    public Kind kind() {
        return kind;
    }

    /** The last console lines of the instance, for diagnosis; empty if none. */
    public String consoleTail() {
        return consoleTail;
    }
}
