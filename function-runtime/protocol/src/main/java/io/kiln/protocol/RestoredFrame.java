package io.kiln.protocol;

/**
 * After every restore. Host to agent: fresh entropy as the body, the wall clock in metadata.
 * Agent to host: the acknowledgement, sent once the clone is ready to serve (metadata: what was
 * reseeded, whether the clock was set, hook count and time), with an empty body.
 */
public record RestoredFrame(String metadata, byte[] body) implements Frame {

    public RestoredFrame {
        metadata = Frames.metadata(metadata);
        body = Frames.body(body);
    }

    @Override
    public FrameType type() {
        return FrameType.RESTORED;
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
