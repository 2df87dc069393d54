package io.kiln.microvm.devices.virtio.console;

import io.kiln.microvm.devices.virtio.queue.TestDriver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Plays a MULTIPORT driver's side of the console control queues over a {@link TestDriver}: posts
 * receive buffers, sends control messages byte by byte, and reads back what the device sent.
 */
final class ControlDriver {
    static final int WRITE = 2;
    static final long IN = 0x30000;  // control receive buffers, one 0x100 slot per descriptor
    static final long OUT = 0x32000; // control messages the driver sends, one 0x100 slot per descriptor
    static final int BAD_ID = -1;    // Linux's VIRTIO_CONSOLE_BAD_ID, the id DEVICE_READY carries

    private final TestDriver t;
    private int posted;
    private int sent;

    ControlDriver(TestDriver t) {
        this.t = t;
    }

    /** The sequence Linux runs: buffers posted, DEVICE_READY, PORT_READY for the added port, PORT_OPEN when opened. */
    static ControlDriver open(TestDriver t) {
        ControlDriver c = new ControlDriver(t);
        c.post(4, 64);
        c.send(BAD_ID, ControlMessage.DEVICE_READY, 1);
        c.send(1, ControlMessage.PORT_READY, 1);
        c.send(1, ControlMessage.PORT_OPEN, 1);
        if (c.received().size() != 3) {
            throw new AssertionError("the device did not announce the port");
        }
        return c;
    }

    /** Posts {@code n} receive buffers of {@code len} bytes on the control receive queue and notifies it. */
    void post(int n, int len) {
        lay(n, len);
        t.notifyQueue(ConsoleDevice.CONTROL_RX);
    }

    /** Makes {@code n} receive buffers available without notifying the device. */
    void lay(int n, int len) {
        for (int i = 0; i < n; i++) {
            int index = posted++ % TestDriver.QSIZE;
            t.putDescriptor(ConsoleDevice.CONTROL_RX, index, IN + 0x100L * index, len, WRITE, 0);
            t.offer(ConsoleDevice.CONTROL_RX, index, 1);
        }
    }

    void send(int id, int event, int value) {
        sendRaw(header(id, event, value));
    }

    /** Any bytes as one control transmit buffer. */
    void sendRaw(byte[] bytes) {
        int index = sent++ % TestDriver.QSIZE;
        t.memory.write(OUT + 0x100L * index, bytes);
        t.putDescriptor(ConsoleDevice.CONTROL_TX, index, OUT + 0x100L * index, bytes.length, 0, 0);
        t.offer(ConsoleDevice.CONTROL_TX, index, 1);
        t.notifyQueue(ConsoleDevice.CONTROL_TX);
    }

    static byte[] header(int id, int event, int value) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(id).putShort((short) event)
                .putShort((short) value).array();
    }

    /** The messages the device put in used receive buffers since the last call, byte for byte. */
    List<byte[]> received() {
        List<byte[]> out = new ArrayList<>();
        for (int[] u : t.takeUsed(ConsoleDevice.CONTROL_RX)) {
            out.add(t.memory.read(IN + 0x100L * u[0], u[1]));
        }
        return out;
    }
}
