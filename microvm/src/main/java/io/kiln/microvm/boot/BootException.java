package io.kiln.microvm.boot;

/** The kernel, initrd or command line cannot be booted as given. */
public final class BootException extends RuntimeException {
    public BootException(String message) {
        super(message);
    }
}
