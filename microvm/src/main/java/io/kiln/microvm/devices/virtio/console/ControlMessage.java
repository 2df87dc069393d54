package io.kiln.microvm.devices.virtio.console;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One message on the control queues of a MULTIPORT virtio-console (virtio 1.x, 5.3.6.2):
 * {@code le32 id | le16 event | le16 value}, then, for PORT_NAME only, the name's bytes.
 */
record ControlMessage(int portId, int event, int value, byte[] payload) {
    static final int HEADER_BYTES = 8;

    static final int DEVICE_READY = 0;
    /** The spec's DEVICE_ADD; Linux's (and our) name says what it adds: a port. */
    static final int PORT_ADD = 1;
    static final int PORT_REMOVE = 2;
    static final int PORT_READY = 3;
    static final int CONSOLE_PORT = 4;
    static final int RESIZE = 5;
    static final int PORT_OPEN = 6;
    static final int PORT_NAME = 7;

    static ControlMessage of(int portId, int event, int value) {
        return new ControlMessage(portId, event, value, new byte[0]);
    }

    /** The first eight bytes of what the driver sent; anything after them is not read. */
    static ControlMessage decode(byte[] header) {
        ByteBuffer b = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        return of(b.getInt(), Short.toUnsignedInt(b.getShort()), Short.toUnsignedInt(b.getShort()));
    }

    byte[] encode() {
        return ByteBuffer.allocate(HEADER_BYTES + payload.length).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(portId).putShort((short) event).putShort((short) value).put(payload).array();
    }
}
