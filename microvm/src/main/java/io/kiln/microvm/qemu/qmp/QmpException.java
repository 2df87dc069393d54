package io.kiln.microvm.qemu.qmp;

/** A QMP command failed, or the QMP connection did. */
public final class QmpException extends RuntimeException {

    private final String errorClass;

    public QmpException(String message) {
        this(message, null, null);
    }

    public QmpException(String message, String errorClass, Throwable cause) {
        super(message, cause);
        this.errorClass = errorClass;
    }

    /** QEMU's error class (e.g. {@code GenericError}), or null if the connection failed. */
    public String errorClass() {
        return errorClass;
    }
}
