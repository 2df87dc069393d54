package io.kiln.protocol;

import java.nio.ByteBuffer;

/** Headers and frames byte by byte, for malformed input. */
final class Raw {

    private Raw() {
    }

    static byte[] header(int m0, int m1, int version, int type, long callId, int metaLen,
                         int bodyLen) {
        return ByteBuffer.allocate(20).put((byte) m0).put((byte) m1).put((byte) version)
                .put((byte) type).putLong(callId).putInt(metaLen).putInt(bodyLen).array();
    }

    static byte[] frame(int type, long callId, int metaLen, int bodyLen, byte[] payload) {
        return ByteBuffer.allocate(20 + payload.length)
                .put(header(0x4B, 0x4C, 1, type, callId, metaLen, bodyLen)).put(payload).array();
    }
}
