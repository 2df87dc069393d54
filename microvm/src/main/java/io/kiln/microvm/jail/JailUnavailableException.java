package io.kiln.microvm.jail;

/** Jails cannot work on this host; the message is the reason, fit for {@code /healthz}. */
public final class JailUnavailableException extends RuntimeException {

    public JailUnavailableException(String reason) {
        super(reason);
    }

    public JailUnavailableException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
