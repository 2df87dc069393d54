package io.kiln.testkit;

/**
 * The function did not initialise, as a deploy would fail with {@code init_failed}: {@link #phase()}
 * is {@code load} (the class is missing), {@code handler} (it implements no handler interface),
 * {@code static_init}, {@code construct} or {@code prime} (a before-snapshot hook threw). The
 * cause is the function's own exception.
 */
public final class InitFailedException extends RuntimeException {

    private final String phase;

    InitFailedException(String phase, String message, Throwable cause) {
        super(message, cause);
        this.phase = phase;
    }

    public String phase() {
        return phase;
    }
}
