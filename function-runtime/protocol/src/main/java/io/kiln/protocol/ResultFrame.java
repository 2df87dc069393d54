package io.kiln.protocol;

/** Agent to host: the output of call {@code callId}. */
public record ResultFrame(long callId, String metadata, byte[] body) implements Frame {

    public ResultFrame {
        if (callId == 0) {
            throw new IllegalArgumentException("call id 0 is reserved for frames not tied to a call");
        }
        metadata = Frames.metadata(metadata);
        body = Frames.body(body);
    }

    @Override
    public FrameType type() {
        return FrameType.RESULT;
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
