package io.kiln.function;

/**
 * Writes log lines attached to the current call. {@code System.out} and {@code System.err} are
 * captured as well; this logger only adds a separate stream so tooling can tell them apart.
 * Lines beyond the per-call log limit are dropped after one "log truncated" notice.
 */
@FunctionalInterface
public interface Logger {

    /** Logs one message as one line (no newline needed). */
    void log(String message);

    /** Logs a message and the stack trace of {@code error}. */
    default void log(String message, Throwable error) {
        java.io.StringWriter trace = new java.io.StringWriter();
        error.printStackTrace(new java.io.PrintWriter(trace));
        log(message + System.lineSeparator() + trace);
    }
}
