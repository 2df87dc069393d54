package io.kiln.protocol;

/** Host to agent: one call; the call id is never 0. The body is the call input. */
public record InvokeFrame(long callId, String metadata, byte[] body) implements Frame {

    public InvokeFrame {
        if (callId == 0) {
            throw new IllegalArgumentException("call id 0 is reserved for frames not tied to a call");
        }
        metadata = Frames.metadata(metadata);
        body = Frames.body(body);
    }

    @Override
    public FrameType type() {
        return FrameType.INVOKE;
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
