package io.kiln.microvm.image;

/** The guest image is missing or incomplete; the message says how to build it. */
public final class GuestImageException extends RuntimeException {
    public GuestImageException(String message) {
        super(message);
    }
}
