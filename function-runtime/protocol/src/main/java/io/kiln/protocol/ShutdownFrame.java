package io.kiln.protocol;

/** Host to agent: exit cleanly (metadata may carry {@code "reason"}). */
public record ShutdownFrame(String metadata) implements Frame {

    public ShutdownFrame {
        metadata = Frames.metadata(metadata);
    }

    @Override
    public FrameType type() {
        return FrameType.SHUTDOWN;
    }
}
