package io.kiln.microvm.devices.virtio.mmio;

import io.kiln.microvm.devices.BusDevice;
import io.kiln.microvm.devices.virtio.Virtio;
import io.kiln.microvm.devices.virtio.VirtioDevice;
import io.kiln.microvm.devices.virtio.VirtioInterrupt;
import io.kiln.microvm.devices.virtio.queue.Queue;
import io.kiln.microvm.devices.virtio.queue.QueueState;
import io.kiln.microvm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * The virtio-mmio transport, version 2 ("modern", virtio 1.x section 4.2.2). Register writes the
 * spec does not allow in the current state (queue setup after DRIVER_OK, features after
 * FEATURES_OK, unknown offsets, wrong widths) are ignored and counted; a driver that asks for
 * features we did not offer does not get FEATURES_OK; queues that are invalid at DRIVER_OK put the
 * device in DEVICE_NEEDS_RESET instead of activating it.
 */
public final class MmioTransport implements BusDevice {
    public static final int SIZE = 0x1000;
    public static final int NOTIFY_OFFSET = 0x050;
    private static final int MAGIC = 0x74726976; // "virt"
    private static final int VERSION = 2;
    private static final int VENDOR = 0x4e4c494b; // "KILN"
    private static final int CONFIG_OFFSET = 0x100;

    private final VirtioDevice device;
    private final GuestMemory memory;
    private final VirtioInterrupt interrupt;
    private final List<Queue> queues = new ArrayList<>();
    private final AtomicLong ignoredAccesses = new AtomicLong();
    private IntConsumer notifier;
    private int deviceFeaturesSel;
    private int driverFeaturesSel;
    private long ackedFeatures;
    private int queueSel;
    private int status;
    private boolean transportNeedsReset;

    /** {@code notifier} runs a queue's work (on the device thread in a VM; directly in unit tests). */
    public MmioTransport(VirtioDevice device, GuestMemory memory, VirtioInterrupt interrupt, IntConsumer notifier) {
        this.device = device;
        this.memory = memory;
        this.interrupt = interrupt;
        this.notifier = notifier;
        for (int max : device.queueMaxSizes()) {
            queues.add(new Queue(max));
        }
    }

    public VirtioDevice device() {
        return device;
    }

    public VirtioInterrupt interrupt() {
        return interrupt;
    }

    public int queueCount() {
        return queues.size();
    }

    public long ignoredAccesses() {
        return ignoredAccesses.get();
    }

    public synchronized int status() {
        return status | (needsReset() ? Virtio.STATUS_DEVICE_NEEDS_RESET : 0);
    }

    private boolean needsReset() {
        return transportNeedsReset || device.needsReset();
    }

    @Override
    public void read(long offset, byte[] data) {
        if (offset >= CONFIG_OFFSET) {
            long o = offset - CONFIG_OFFSET;
            if (o + data.length <= device.configSize()) {
                device.readConfig(o, data);
            } else {
                java.util.Arrays.fill(data, (byte) 0);
                ignoredAccesses.incrementAndGet();
            }
            return;
        }
        int v;
        if (data.length != 4 || (offset & 3) != 0) {
            ignoredAccesses.incrementAndGet();
            v = 0;
        } else {
            v = readRegister((int) offset);
        }
        put(data, v);
    }

    private synchronized int readRegister(int offset) {
        Queue q = queueSel >= 0 && queueSel < queues.size() ? queues.get(queueSel) : null;
        switch (offset) {
            case 0x000: return MAGIC;
            case 0x004: return VERSION;
            case 0x008: return device.deviceType();
            case 0x00c: return VENDOR;
            case 0x010:
                return deviceFeaturesSel == 0 ? (int) device.availableFeatures()
                        : deviceFeaturesSel == 1 ? (int) (device.availableFeatures() >>> 32) : 0;
            case 0x034: return q == null ? 0 : q.maxSize();
            case 0x044: return q != null && q.ready() ? 1 : 0;
            case 0x060: return interrupt.status();
            case 0x070: return status();
            case 0x0fc: return 0; // config generation: our config never changes
            default:
                ignoredAccesses.incrementAndGet();
                return 0;
        }
    }

    @Override
    public void write(long offset, byte[] data) {
        if (offset >= CONFIG_OFFSET) {
            long o = offset - CONFIG_OFFSET;
            if (o + data.length <= device.configSize()) {
                device.writeConfig(o, data);
            } else {
                ignoredAccesses.incrementAndGet();
            }
            return;
        }
        if (data.length != 4 || (offset & 3) != 0) {
            ignoredAccesses.incrementAndGet();
            return;
        }
        int v = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (offset == NOTIFY_OFFSET) {
            notifyQueue(v);
            return;
        }
        writeRegister((int) offset, v);
    }

    /** A notification that reached us as an MMIO exit (no ioeventfd matched, or none registered). */
    private void notifyQueue(int index) {
        boolean ok;
        synchronized (this) {
            ok = index >= 0 && index < queues.size() && (status & Virtio.STATUS_DRIVER_OK) != 0 && device.activated();
        }
        if (!ok) {
            ignoredAccesses.incrementAndGet();
            return;
        }
        notifier.accept(index);
    }

    private synchronized void writeRegister(int offset, int v) {
        boolean queueSetupAllowed = (status & Virtio.STATUS_DRIVER_OK) == 0 && (status & Virtio.STATUS_FEATURES_OK) != 0;
        Queue q = queueSel >= 0 && queueSel < queues.size() ? queues.get(queueSel) : null;
        switch (offset) {
            case 0x014 -> deviceFeaturesSel = v;
            case 0x020 -> {
                if ((status & Virtio.STATUS_DRIVER) != 0 && (status & Virtio.STATUS_FEATURES_OK) == 0 && driverFeaturesSel < 2) {
                    int shift = 32 * driverFeaturesSel;
                    ackedFeatures = (ackedFeatures & ~(0xffff_ffffL << shift)) | (Integer.toUnsignedLong(v) << shift);
                } else {
                    ignoredAccesses.incrementAndGet();
                }
            }
            case 0x024 -> driverFeaturesSel = v;
            case 0x030 -> queueSel = v;
            case 0x038 -> queueField(queueSetupAllowed, q, () -> q.setSize(v));
            case 0x044 -> queueField(queueSetupAllowed, q, () -> q.setReady(v == 1));
            case 0x064 -> interrupt.acknowledge(v);
            case 0x070 -> writeStatus(v);
            case 0x080 -> queueField(queueSetupAllowed, q, () -> q.setDescTable(low(q.descTable(), v)));
            case 0x084 -> queueField(queueSetupAllowed, q, () -> q.setDescTable(high(q.descTable(), v)));
            case 0x090 -> queueField(queueSetupAllowed, q, () -> q.setAvailRing(low(q.availRing(), v)));
            case 0x094 -> queueField(queueSetupAllowed, q, () -> q.setAvailRing(high(q.availRing(), v)));
            case 0x0a0 -> queueField(queueSetupAllowed, q, () -> q.setUsedRing(low(q.usedRing(), v)));
            case 0x0a4 -> queueField(queueSetupAllowed, q, () -> q.setUsedRing(high(q.usedRing(), v)));
            default -> ignoredAccesses.incrementAndGet();
        }
    }

    /** Queue registers are writable only between FEATURES_OK and DRIVER_OK, for an existing queue. */
    private void queueField(boolean allowed, Queue q, Runnable set) {
        if (allowed && q != null) {
            set.run();
        } else {
            ignoredAccesses.incrementAndGet();
        }
    }

    private static long low(long old, int v) {
        return (old & 0xffff_ffff_0000_0000L) | Integer.toUnsignedLong(v);
    }

    private static long high(long old, int v) {
        return (old & 0xffff_ffffL) | ((long) v << 32);
    }

    private void writeStatus(int v) {
        if (v == 0) {
            resetLocked();
            return;
        }
        // The spec lets a driver only add status bits; clearing DRIVER_OK without a reset would
        // make the queue registers writable under a running device.
        int clearedBits = status & ~v & ~Virtio.STATUS_DEVICE_NEEDS_RESET;
        if (clearedBits != 0) {
            ignoredAccesses.incrementAndGet();
            return;
        }
        int newBits = v & ~status;
        if ((newBits & Virtio.STATUS_FEATURES_OK) != 0) {
            boolean subset = (ackedFeatures & ~device.availableFeatures()) == 0;
            boolean modern = (ackedFeatures & Virtio.F_VERSION_1) != 0;
            if (!subset || !modern) {
                v &= ~Virtio.STATUS_FEATURES_OK; // the driver reads it back and gives up
                ignoredAccesses.incrementAndGet();
            }
        }
        if ((newBits & Virtio.STATUS_DRIVER_OK) != 0) {
            if ((v & Virtio.STATUS_FEATURES_OK) == 0) {
                ignoredAccesses.incrementAndGet();
                return;
            }
            status = v & ~Virtio.STATUS_DEVICE_NEEDS_RESET;
            activateLocked();
            return;
        }
        status = v & ~Virtio.STATUS_DEVICE_NEEDS_RESET;
    }

    private void activateLocked() {
        for (Queue q : queues) {
            String problem = q.ready() ? q.validate(memory) : null;
            if (problem != null) {
                transportNeedsReset = true;
                interrupt.signalConfig();
                return;
            }
        }
        device.activate(memory, List.copyOf(queues), interrupt, ackedFeatures);
    }

    private void resetLocked() {
        status = 0;
        ackedFeatures = 0;
        queueSel = 0;
        deviceFeaturesSel = 0;
        driverFeaturesSel = 0;
        transportNeedsReset = false;
        interrupt.set(0);
        // The device stops first (under its own lock), so no queue work sees the queues change.
        device.reset();
        queues.forEach(Queue::reset);
    }

    public synchronized MmioState state() {
        List<QueueState> qs = new ArrayList<>();
        for (Queue q : queues) {
            qs.add(q.state());
        }
        return new MmioState(deviceFeaturesSel, driverFeaturesSel, ackedFeatures, queueSel, status, interrupt.status(),
                transportNeedsReset, qs);
    }

    /** Puts registers and queues back and re-activates the device if the driver had it running. */
    public synchronized void restore(MmioState s) {
        if (s.queues().size() != queues.size()) {
            throw new IllegalArgumentException("snapshot has " + s.queues().size() + " queues, device has " + queues.size());
        }
        deviceFeaturesSel = s.deviceFeaturesSel();
        driverFeaturesSel = s.driverFeaturesSel();
        ackedFeatures = s.ackedFeatures();
        queueSel = s.queueSel();
        status = s.status();
        interrupt.set(s.interruptStatus());
        transportNeedsReset = s.needsReset();
        for (int i = 0; i < queues.size(); i++) {
            queues.get(i).restore(s.queues().get(i));
        }
        if ((status & Virtio.STATUS_DRIVER_OK) != 0 && !transportNeedsReset) {
            device.activate(memory, List.copyOf(queues), interrupt, ackedFeatures);
        }
    }

    private static void put(byte[] data, int v) {
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (v >>> (8 * i));
        }
    }
}
