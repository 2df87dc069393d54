package io.kiln.microvm.devices.virtio.queue;

import io.kiln.microvm.devices.virtio.Virtio;
import io.kiln.microvm.devices.virtio.VirtioDevice;
import io.kiln.microvm.devices.virtio.VirtioInterrupt;
import io.kiln.microvm.devices.virtio.mmio.MmioTransport;
import io.kiln.microvm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Plays the guest driver against a device with no VM: guest RAM is a plain anonymous mapping,
 * the transport is driven through its registers, chains are laid out by hand (hostile ones
 * included), notifications run the device synchronously, and interrupts are counted.
 */
public final class TestDriver implements AutoCloseable {
    public static final long RAM = 1 << 20;
    public static final int QSIZE = 16;

    public final GuestMemory memory = GuestMemory.anonymous(RAM);
    public final AtomicInteger interrupts = new AtomicInteger();
    public final MmioTransport transport;
    private final long[] desc;
    private final long[] avail;
    private final long[] used;
    private final int[] availIdx;
    private final int[] usedSeen;

    public TestDriver(VirtioDevice device) {
        VirtioInterrupt irq = new VirtioInterrupt(interrupts::incrementAndGet);
        transport = new MmioTransport(device, memory, irq, device::processQueue);
        int n = device.queueMaxSizes().length;
        desc = new long[n];
        avail = new long[n];
        used = new long[n];
        availIdx = new int[n];
        usedSeen = new int[n];
        for (int q = 0; q < n; q++) {
            desc[q] = 0x10000 + 0x4000L * q;
            avail[q] = desc[q] + 0x1000;
            used[q] = desc[q] + 0x2000;
        }
    }

    public int read(int offset) {
        byte[] b = new byte[4];
        transport.read(offset, b);
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    public void write(int offset, int value) {
        transport.write(offset, ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array());
    }

    /** The driver init sequence of virtio 1.x section 3.1.1, all queues at QSIZE, VIRTIO_F_VERSION_1 only. */
    public TestDriver setUp() {
        return setUp(Virtio.F_VERSION_1);
    }

    /** {@link #setUp()} accepting {@code features} (which must include VIRTIO_F_VERSION_1). */
    public TestDriver setUp(long features) {
        write(0x70, 0);
        write(0x70, Virtio.STATUS_ACKNOWLEDGE);
        write(0x70, Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER);
        write(0x24, 1);
        write(0x20, (int) (features >>> 32)); // VIRTIO_F_VERSION_1 is bit 0 of the high word
        write(0x24, 0);
        write(0x20, (int) features);
        write(0x70, Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER | Virtio.STATUS_FEATURES_OK);
        for (int q = 0; q < desc.length; q++) {
            setUpQueue(q, QSIZE, desc[q], avail[q], used[q]);
        }
        write(0x70, Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER | Virtio.STATUS_FEATURES_OK | Virtio.STATUS_DRIVER_OK);
        return this;
    }

    public void setUpQueue(int q, int size, long d, long a, long u) {
        write(0x30, q);
        write(0x38, size);
        write(0x80, (int) d);
        write(0x84, (int) (d >>> 32));
        write(0x90, (int) a);
        write(0x94, (int) (a >>> 32));
        write(0xa0, (int) u);
        write(0xa4, (int) (u >>> 32));
        write(0x44, 1);
    }

    public void putDescriptor(int q, int index, long addr, int len, int flags, int next) {
        long d = desc[q] + 16L * index;
        memory.writeLong(d, addr);
        memory.writeInt(d + 8, len);
        memory.writeShort(d + 12, (short) flags);
        memory.writeShort(d + 14, (short) next);
    }

    /** Makes {@code head} available and bumps the avail index by {@code step} (1 normally; more to be hostile). */
    public void offer(int q, int head, int step) {
        memory.writeShort(avail[q] + 4 + 2L * (availIdx[q] % QSIZE), (short) head);
        availIdx[q] = (availIdx[q] + step) & 0xffff;
        memory.writeShort(avail[q] + 2, (short) availIdx[q]);
    }

    public void notifyQueue(int q) {
        write(MmioTransport.NOTIFY_OFFSET, q);
    }

    /** The used elements added since the last call, as {id, len} pairs. */
    public java.util.List<int[]> takeUsed(int q) {
        int idx = Short.toUnsignedInt(memory.readShort(used[q] + 2));
        java.util.List<int[]> out = new java.util.ArrayList<>();
        while (usedSeen[q] != idx) {
            long e = used[q] + 4 + 8L * (usedSeen[q] % QSIZE);
            out.add(new int[] {memory.readInt(e), memory.readInt(e + 4)});
            usedSeen[q] = (usedSeen[q] + 1) & 0xffff;
        }
        return out;
    }

    public boolean needsReset() {
        return (read(0x70) & Virtio.STATUS_DEVICE_NEEDS_RESET) != 0;
    }

    @Override
    public void close() {
        memory.close();
    }
}
