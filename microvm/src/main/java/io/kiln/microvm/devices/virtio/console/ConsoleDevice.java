package io.kiln.microvm.devices.virtio.console;

import io.kiln.microvm.devices.virtio.ActivatedQueues;
import io.kiln.microvm.devices.virtio.Virtio;
import io.kiln.microvm.devices.virtio.VirtioDevice;
import io.kiln.microvm.devices.virtio.VirtioInterrupt;
import io.kiln.microvm.devices.virtio.queue.Descriptor;
import io.kiln.microvm.devices.virtio.queue.DescriptorChain;
import io.kiln.microvm.devices.virtio.queue.Queue;
import io.kiln.microvm.devices.virtio.queue.QueueException;
import io.kiln.microvm.memory.GuestMemory;
import io.kiln.microvm.memory.GuestMemoryException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * virtio-console with VIRTIO_CONSOLE_F_MULTIPORT and one serial port, port 1, named
 * {@value #PORT_NAME}: the function channel. It is the layout QEMU's {@code virtio-serial-device}
 * with one {@code virtserialport} at {@code nr=1} gives (see {@code QemuMicroVmCommand}), so the
 * guest sees the same plain character device, {@code /dev/vport0p1}, named the same, on both
 * engines. Port 0, the console port, is never added: the guest has no {@code hvc0} and no tty in
 * the data path.
 *
 * <p>Queues (5.3.2): 0 and 1 are port 0's and stay unserved; 2 and 3 carry control messages
 * (device to driver, driver to device); 4 ({@link #RX}) carries host bytes into buffers the guest
 * posted for port 1, and 5 ({@link #TX}) carries the guest's bytes out. The control protocol
 * runs in one fixed order (see {@link ConsoleState.Stage}): the driver's DEVICE_READY; PORT_ADD
 * for port 1; the driver's PORT_READY; PORT_OPEN (the host side is always connected); PORT_NAME.
 * The driver's PORT_OPEN says whether the guest has the port open; host bytes are delivered
 * only then, because Linux discards what arrives for a port nobody has open. A driver that does
 * not take MULTIPORT gets a device with no ports. Anything out of protocol (a short message, an
 * event a driver does not send, a port that does not exist, an event out of order, a control
 * buffer too small for the message) puts the device in NEEDS_RESET, as a malformed chain does.
 *
 * <p>The host sees a plain byte-stream pair ({@link #fromGuest()}, {@link #toGuest()}); framing is
 * the protocol layer's business. Neither direction drops bytes: host bytes wait in a bounded
 * buffer until the guest has the port open and buffers posted, and when the host reader falls
 * behind, the device stops taking the guest's transmit buffers, which throttles the guest.
 */
public final class ConsoleDevice implements VirtioDevice {
    /** The function-channel port's name, as the guest reads it in /sys/class/virtio-ports/vport*p1/name. */
    public static final String PORT_NAME = "kiln.channel";
    public static final long F_MULTIPORT = 1L << 1;
    public static final int PORT0_RX = 0;
    public static final int PORT0_TX = 1;
    public static final int CONTROL_RX = 2;
    public static final int CONTROL_TX = 3;
    /** The function channel's receive queue (host to guest): port 1's. */
    public static final int RX = 4;
    /** The function channel's transmit queue (guest to host): port 1's. */
    public static final int TX = 5;
    public static final int CHANNEL_PORT = 1;
    public static final int MAX_PORTS = 2;
    public static final int QUEUE_SIZE = 256;
    private static final int CONFIG_SIZE = 12; // cols u16, rows u16, max_nr_ports u32, emerg_wr u32
    private static final int BUFFER_BYTES = 4 << 20;

    // virtio
    private long ackedFeatures;
    // transport
    private ActivatedQueues active;
    private boolean needsReset;
    // device-specific: the control protocol (owned by the device thread, under this lock)
    private ConsoleState.Stage stage = ConsoleState.Stage.WAITING_FOR_DRIVER;
    private boolean guestOpen;
    // device-specific: the host side
    private final ByteQueue toGuest = new ByteQueue(BUFFER_BYTES);
    private final ByteQueue fromGuest = new ByteQueue(BUFFER_BYTES);
    private final ConsoleMetrics metrics = new ConsoleMetrics();
    private volatile IntConsumer wakeup = q -> { };
    private volatile boolean txStalled;

    /** How host-side events reach the device thread: run {@code processQueue(q)} there soon. */
    public void setWakeup(IntConsumer wakeup) {
        this.wakeup = wakeup;
    }

    public ConsoleMetrics metrics() {
        return metrics;
    }

    public InputStream fromGuest() {
        return new InputStream() {
            @Override
            public int read() throws InterruptedIOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws InterruptedIOException {
                if (len == 0) {
                    return 0;
                }
                int n = fromGuest.read(b, off, len);
                if (txStalled && fromGuest.hasRoom()) {
                    txStalled = false;
                    wakeup.accept(TX);
                }
                return n;
            }

            @Override
            public int available() {
                return (int) Math.min(Integer.MAX_VALUE, fromGuest.size());
            }
        };
    }

    public OutputStream toGuest() {
        return new OutputStream() {
            @Override
            public void write(int b) throws InterruptedIOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws InterruptedIOException {
                toGuest.put(b, off, len);
                wakeup.accept(RX);
            }

            @Override
            public void close() {
                toGuest.close();
            }
        };
    }

    /**
     * The guest will send nothing more (it stopped): the host's reader gets what is buffered,
     * then end of stream. Device thread.
     */
    public void guestStopped() {
        fromGuest.close();
    }

    /** Ends both streams: readers see end-of-stream, writers stop blocking. */
    public void closeHostSide() {
        toGuest.close();
        fromGuest.close();
    }

    @Override
    public int deviceType() {
        return Virtio.TYPE_CONSOLE;
    }

    @Override
    public long availableFeatures() {
        return Virtio.F_VERSION_1 | F_MULTIPORT;
    }

    @Override
    public int[] queueMaxSizes() {
        int[] sizes = new int[2 * (MAX_PORTS + 1)];
        java.util.Arrays.fill(sizes, QUEUE_SIZE);
        return sizes;
    }

    @Override
    public int configSize() {
        return CONFIG_SIZE;
    }

    @Override
    public void readConfig(long offset, byte[] data) {
        // No size (cols, rows = 0), two ports (0 and 1), no emergency write.
        byte[] config = ByteBuffer.allocate(CONFIG_SIZE).order(ByteOrder.LITTLE_ENDIAN).putInt(4, MAX_PORTS).array();
        System.arraycopy(config, (int) offset, data, 0, data.length);
    }

    @Override
    public void writeConfig(long offset, byte[] data) {
        // emerg_wr needs VIRTIO_CONSOLE_F_EMERG_WRITE, which we do not offer.
    }

    @Override
    public synchronized void activate(GuestMemory memory, List<Queue> queues, VirtioInterrupt interrupt, long acked) {
        this.ackedFeatures = acked;
        this.active = new ActivatedQueues(memory, queues, interrupt, acked);
        this.stage = ConsoleState.Stage.WAITING_FOR_DRIVER;
        this.guestOpen = false;
    }

    @Override
    public synchronized boolean activated() {
        return active != null;
    }

    @Override
    public synchronized boolean needsReset() {
        return needsReset;
    }

    @Override
    public synchronized void reset() {
        active = null;
        needsReset = false;
        ackedFeatures = 0;
        stage = ConsoleState.Stage.WAITING_FOR_DRIVER;
        guestOpen = false;
    }

    @Override
    public synchronized void processQueue(int queueIndex) {
        if (active == null || needsReset || (ackedFeatures & F_MULTIPORT) == 0) {
            return; // without MULTIPORT there is no port 1, and port 0 is never added
        }
        boolean used;
        try {
            used = switch (queueIndex) {
                // What the driver sent may owe it a reply, or open the port to waiting host bytes.
                case CONTROL_TX -> drainControlQueue() | fillControlQueue() | fillReceiveQueue();
                case CONTROL_RX -> fillControlQueue();
                case RX -> fillReceiveQueue();
                case TX -> drainTransmitQueue();
                default -> false; // port 0's queues: the port does not exist
            };
        } catch (QueueException | GuestMemoryException | ControlException e) {
            fail(e.getMessage());
            return;
        }
        if (used) {
            active.interrupt().signalUsed(); // once per batch
        }
    }

    /** Driver → device control messages: each is a chain whose first eight readable bytes are the header. */
    private boolean drainControlQueue() throws QueueException, ControlException {
        Queue q = active.queues().get(CONTROL_TX);
        GuestMemory mem = active.memory();
        boolean used = false;
        while (q.ready() && q.pending(mem) > 0) {
            DescriptorChain chain = q.pop(mem);
            byte[] header = new byte[ControlMessage.HEADER_BYTES];
            int got = 0;
            for (Descriptor d : chain.descriptors()) {
                if (!d.writable() && got < header.length) {
                    int take = Math.min(header.length - got, d.length());
                    mem.read(d.address(), header, got, take);
                    got += take;
                }
            }
            q.addUsed(mem, chain.head(), 0);
            used = true;
            if (got < header.length) {
                throw new ControlException("control message of " + got + " bytes; a header is " + header.length);
            }
            metrics.controlIn.incrementAndGet();
            handle(ControlMessage.decode(header));
        }
        return used;
    }

    private void handle(ControlMessage m) throws ControlException {
        if (m.value() > 1) {
            throw new ControlException("control event " + m.event() + " with value " + m.value() + " (0 or 1 only)");
        }
        switch (m.event()) {
            case ControlMessage.DEVICE_READY -> {
                if (stage != ConsoleState.Stage.WAITING_FOR_DRIVER) {
                    throw new ControlException("DEVICE_READY a second time");
                }
                if (m.value() == 1) {
                    stage = ConsoleState.Stage.ADD_PENDING;
                } else {
                    metrics.lastError.set("the driver failed to set up the device (DEVICE_READY 0)");
                }
            }
            case ControlMessage.PORT_READY -> {
                requirePort(m);
                if (stage != ConsoleState.Stage.ADDED) {
                    throw new ControlException("PORT_READY for port " + m.portId() + " in stage " + stage);
                }
                if (m.value() == 1) {
                    stage = ConsoleState.Stage.OPEN_PENDING;
                } else {
                    metrics.lastError.set("the driver failed to add port " + m.portId() + " (PORT_READY 0)");
                }
            }
            case ControlMessage.PORT_OPEN -> {
                requirePort(m);
                if (stage.compareTo(ConsoleState.Stage.ADDED) < 0) {
                    throw new ControlException("PORT_OPEN for port " + m.portId() + " before it was added");
                }
                guestOpen = m.value() == 1;
            }
            default -> throw new ControlException("control event " + m.event() + " is not one a driver sends");
        }
    }

    private static void requirePort(ControlMessage m) throws ControlException {
        if (m.portId() != CHANNEL_PORT) {
            throw new ControlException("control event " + m.event() + " for port " + Integer.toUnsignedString(m.portId())
                    + ", which does not exist");
        }
    }

    /** The message the device owes the driver at this stage, if any, and the stage after it is delivered. */
    private ControlMessage owed() {
        return switch (stage) {
            case ADD_PENDING -> ControlMessage.of(CHANNEL_PORT, ControlMessage.PORT_ADD, 1);
            case OPEN_PENDING -> ControlMessage.of(CHANNEL_PORT, ControlMessage.PORT_OPEN, 1);
            // Sent after PORT_OPEN, so a guest that sees the name also sees the host side open.
            case NAME_PENDING -> new ControlMessage(CHANNEL_PORT, ControlMessage.PORT_NAME, 1,
                    PORT_NAME.getBytes(StandardCharsets.US_ASCII));
            default -> null;
        };
    }

    private static ConsoleState.Stage after(ConsoleState.Stage s) {
        return switch (s) {
            case ADD_PENDING -> ConsoleState.Stage.ADDED;
            case OPEN_PENDING -> ConsoleState.Stage.NAME_PENDING;
            case NAME_PENDING -> ConsoleState.Stage.ANNOUNCED;
            default -> throw new IllegalStateException("nothing owed in stage " + s);
        };
    }

    /** Device → driver control messages: each owed message goes into one posted buffer. */
    private boolean fillControlQueue() throws QueueException, ControlException {
        Queue q = active.queues().get(CONTROL_RX);
        GuestMemory mem = active.memory();
        boolean used = false;
        for (ControlMessage m = owed(); m != null && q.ready() && q.pending(mem) > 0; m = owed()) {
            DescriptorChain chain = q.pop(mem);
            byte[] bytes = m.encode();
            if (chain.writableLength() < bytes.length) {
                q.addUsed(mem, chain.head(), 0);
                throw new ControlException("control receive buffer of " + chain.writableLength() + " bytes; the message is "
                        + bytes.length);
            }
            int written = 0;
            for (Descriptor d : chain.descriptors()) {
                if (d.writable() && written < bytes.length) {
                    int n = Math.min(bytes.length - written, d.length());
                    mem.write(d.address(), bytes, written, n);
                    written += n;
                }
            }
            q.addUsed(mem, chain.head(), written);
            metrics.controlOut.incrementAndGet();
            stage = after(stage);
            used = true;
        }
        return used;
    }

    /**
     * Host → guest: fill posted buffers while there are bytes, once the guest has the port open
     * (Linux discards data for a closed port). Takes a chain only if there is data for it.
     */
    private boolean fillReceiveQueue() throws QueueException {
        Queue q = active.queues().get(RX);
        GuestMemory mem = active.memory();
        boolean used = false;
        while (guestOpen && toGuest.size() > 0 && q.ready() && q.pending(mem) > 0) {
            DescriptorChain chain = q.pop(mem);
            int written = 0;
            for (Descriptor d : chain.descriptors()) {
                if (!d.writable()) {
                    continue;
                }
                byte[] data = toGuest.poll(d.length());
                mem.write(d.address(), data, 0, data.length);
                written += data.length;
                if (data.length < d.length()) {
                    break;
                }
            }
            if (chain.writableLength() == 0) {
                metrics.invalidChains.incrementAndGet(); // a receive buffer with nothing to write into
            }
            // Counted before the guest (which may poll the used ring) can see the bytes.
            metrics.rxBytes.addAndGet(written);
            metrics.rxChains.incrementAndGet();
            q.addUsed(mem, chain.head(), written);
            used = true;
        }
        return used;
    }

    /** Guest → host: copy out every readable buffer; stop (and resume on a read) if the host is not keeping up. */
    private boolean drainTransmitQueue() throws QueueException {
        Queue q = active.queues().get(TX);
        GuestMemory mem = active.memory();
        boolean used = false;
        while (q.ready() && q.pending(mem) > 0) {
            if (!fromGuest.hasRoom()) {
                txStalled = true;
                // The reader may have drained the buffer between the check and the flag, and
                // then seen no flag to act on: look once more, or nobody would ever wake us.
                if (!fromGuest.hasRoom()) {
                    break;
                }
                txStalled = false;
            }
            DescriptorChain chain = q.pop(mem);
            long readable = 0;
            for (Descriptor d : chain.descriptors()) {
                if (!d.writable()) {
                    readable += d.length();
                }
            }
            // A chain may name up to 4 GiB, all of it the same guest page. Copying it would put
            // that much on the host heap; no driver sends more than a few pages at once.
            if (readable > BUFFER_BYTES) {
                fail("transmit chain of " + readable + " bytes is larger than the " + BUFFER_BYTES + "-byte console buffer");
                return used;
            }
            for (Descriptor d : chain.descriptors()) {
                if (!d.writable() && d.length() > 0) {
                    // Counted before the host can see the bytes, so a reader never outruns the metric.
                    metrics.txBytes.addAndGet(d.length());
                    fromGuest.offer(mem.read(d.address(), d.length()));
                }
            }
            q.addUsed(mem, chain.head(), 0);
            metrics.txChains.incrementAndGet();
            used = true;
        }
        return used;
    }

    /** A malformed queue: count it, stop serving, tell the driver (DEVICE_NEEDS_RESET + config interrupt). */
    private void fail(String why) {
        metrics.invalidChains.incrementAndGet();
        metrics.lastError.set(why);
        needsReset = true;
        active.interrupt().signalConfig();
    }

    public synchronized ConsoleState state() {
        return new ConsoleState(ackedFeatures, needsReset, stage, guestOpen);
    }

    /** After the transport's restore (which re-activated the device): the protocol where the snapshot left it. */
    public synchronized void restore(ConsoleState s) {
        ackedFeatures = s.ackedFeatures();
        needsReset = s.needsReset();
        stage = s.stage();
        guestOpen = s.guestOpen();
    }

    /** The driver broke the control protocol. */
    private static final class ControlException extends Exception {
        ControlException(String message) {
            super(message);
        }
    }
}
