package io.kiln.microvm.group;

import java.io.IOException;

/** The other side of a VMM host connection broke the protocol; the connection is dropped. */
public final class ProtocolException extends IOException {
    public ProtocolException(String message) {
        super(message);
    }
}
