package io.kiln.microvm.memory;

/** A guest-physical access that falls (partly) outside guest RAM, or whose range overflows. */
public final class GuestMemoryException extends RuntimeException {
    public GuestMemoryException(String message) {
        super(message);
    }
}
