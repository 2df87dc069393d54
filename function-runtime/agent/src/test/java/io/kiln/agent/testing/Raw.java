package io.kiln.agent.testing;

import java.nio.ByteBuffer;

/** Frames byte by byte, as a hostile or buggy host might write them. */
public final class Raw {

    private Raw() {
    }

    /** A v1 header with these fields followed by {@code payload}. */
    public static byte[] frame(int type, long callId, int metaLen, int bodyLen, byte[] payload) {
        return frame(0x4B, 0x4C, 1, type, callId, metaLen, bodyLen, payload);
    }

    public static byte[] frame(int m0, int m1, int version, int type, long callId, int metaLen,
                               int bodyLen, byte[] payload) {
        return ByteBuffer.allocate(20 + payload.length)
                .put((byte) m0).put((byte) m1).put((byte) version).put((byte) type)
                .putLong(callId).putInt(metaLen).putInt(bodyLen).put(payload).array();
    }
}
