package io.kiln.protocol;

/** Agent to host: the function initialised (metadata: init time, handler style, types). */
public record InitializedFrame(String metadata) implements Frame {

    public InitializedFrame {
        metadata = Frames.metadata(metadata);
    }

    @Override
    public FrameType type() {
        return FrameType.INITIALIZED;
    }
}
