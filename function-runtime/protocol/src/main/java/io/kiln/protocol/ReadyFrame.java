package io.kiln.protocol;

/** Agent to host, once at start: metadata {@code {"protocol":1,"agent":"…","java":"…"}}. */
public record ReadyFrame(String metadata) implements Frame {

    public ReadyFrame {
        metadata = Frames.metadata(metadata);
    }

    @Override
    public FrameType type() {
        return FrameType.READY;
    }
}
