package io.kiln.microvm.qemu;

/** QEMU is missing, failed to start, or died; the message says which and shows its output. */
public final class QemuException extends RuntimeException {
    public QemuException(String message) {
        super(message);
    }

    public QemuException(String message, Throwable cause) {
        super(message, cause);
    }
}
