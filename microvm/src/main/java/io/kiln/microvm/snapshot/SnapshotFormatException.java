package io.kiln.microvm.snapshot;

import java.io.IOException;

/** A snapshot file this build cannot read: wrong magic, unknown version or record, truncated. */
public final class SnapshotFormatException extends IOException {
    public SnapshotFormatException(String message) {
        super(message);
    }
}
