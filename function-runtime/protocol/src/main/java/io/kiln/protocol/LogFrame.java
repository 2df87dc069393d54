package io.kiln.protocol;

/** Agent to host: log bytes (metadata {@code "stream"}), tagged with the current call or 0. */
public record LogFrame(long callId, String metadata, byte[] body) implements Frame {

    public LogFrame {
        metadata = Frames.metadata(metadata);
        body = Frames.body(body);
    }

    @Override
    public FrameType type() {
        return FrameType.LOG;
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
