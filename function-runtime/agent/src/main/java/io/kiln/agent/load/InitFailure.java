package io.kiln.agent.load;

/**
 * Init failed; {@link #phase()} says where: {@code load} (jar or class not found), {@code
 * static_init}, {@code construct}, {@code handler} (no usable signature), {@code prime} (a
 * before-snapshot hook). The cause is the user's exception, unwrapped.
 */
public final class InitFailure extends Exception {

    private final String phase;

    public InitFailure(String phase, String message, Throwable cause) {
        super(message, cause);
        this.phase = phase;
    }

    public String phase() {
        return phase;
    }
}
