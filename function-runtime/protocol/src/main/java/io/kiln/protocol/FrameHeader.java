package io.kiln.protocol;

/**
 * The fixed 20-byte header as read from the wire, before it was judged. {@code type} is null
 * when {@code typeCode} names no known type. Lengths are unsigned 32-bit values held in a long.
 */
public record FrameHeader(int version, int typeCode, FrameType type, long callId,
                          long metadataLength, long bodyLength) {

    /** Bytes that follow the header: metadata then body. */
    public long payloadLength() {
        return metadataLength + bodyLength;
    }
}
