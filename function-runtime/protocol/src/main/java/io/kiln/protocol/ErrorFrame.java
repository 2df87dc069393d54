package io.kiln.protocol;

/**
 * A failure. Metadata always has {@code "code"} and {@code "message"}; for exceptions also
 * {@code "type"} and {@code "stack"}. Call id 0 when the failure is not a call's (init, protocol).
 */
public record ErrorFrame(long callId, String metadata, byte[] body) implements Frame {

    public ErrorFrame {
        metadata = Frames.metadata(metadata);
        body = Frames.body(body);
    }

    @Override
    public FrameType type() {
        return FrameType.ERROR;
    }

    @Override
    public boolean equals(Object o) {
        return Frames.equal(this, o);
    }

    @Override
    public int hashCode() {
        return Frames.hash(this);
    }

    @Override
    public String toString() {
        return Frames.describe(this);
    }
}
