package io.kiln.invoker.instance;

/**
 * An instance could not be made ready: the runtime did not boot, a restore's hooks failed, or
 * the function's init failed. {@code output} carries what the guest printed that explains it
 * (the init log, or the console's tail).
 */
public final class StartFailure extends RuntimeException {

    private final String code;
    private final String output;

    public StartFailure(String code, String message, String output, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.output = output == null ? "" : output;
    }

    /** {@code init_failed}, {@code init_timeout}, {@code restore_failed}, {@code boot_failed}, ... */
    public String code() {
        return code;
    }

    public String output() {
        return output;
    }
}
