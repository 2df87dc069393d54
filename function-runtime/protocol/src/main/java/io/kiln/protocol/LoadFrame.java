package io.kiln.protocol;

/** Host to agent: the function jar as the body, how to run it as metadata. */
public record LoadFrame(String metadata, byte[] body) implements Frame {

    public LoadFrame {
        metadata = Frames.metadata(metadata);
        body = Frames.body(body);
    }

    @Override
    public FrameType type() {
        return FrameType.LOAD;
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
