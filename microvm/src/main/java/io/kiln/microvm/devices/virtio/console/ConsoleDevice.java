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
import java.util.List;
import java.util.function.IntConsumer;

/**
 * virtio-console with one port and no MULTIPORT: the function channel. Queue 0 (receiveq) carries
 * host bytes into buffers the guest posted; queue 1 (transmitq) carries guest bytes out. The host
 * sees a plain byte-stream pair ({@link #fromGuest()}, {@link #toGuest()}); framing is the
 * protocol layer's business.
 */
public final class ConsoleDevice implements VirtioDevice {
    public static final int RX = 0;
    public static final int TX = 1;
    public static final int QUEUE_SIZE = 256;
    private static final int CONFIG_SIZE = 12; // cols, rows, max_nr_ports, emerg_wr
    private static final int BUFFER_BYTES = 4 << 20;

    // virtio
    private long ackedFeatures;
    // transport
    private ActivatedQueues active;
    private boolean needsReset;
    // device-specific
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
        return Virtio.F_VERSION_1;
    }

    @Override
    public int[] queueMaxSizes() {
        return new int[] {QUEUE_SIZE, QUEUE_SIZE};
    }

    @Override
    public int configSize() {
        return CONFIG_SIZE;
    }

    @Override
    public void readConfig(long offset, byte[] data) {
        java.util.Arrays.fill(data, (byte) 0); // no size, one port, no emergency write
    }

    @Override
    public void writeConfig(long offset, byte[] data) {
        // emerg_wr needs VIRTIO_CONSOLE_F_EMERG_WRITE, which we do not offer.
    }

    @Override
    public synchronized void activate(GuestMemory memory, List<Queue> queues, VirtioInterrupt interrupt, long acked) {
        this.ackedFeatures = acked;
        this.active = new ActivatedQueues(memory, queues, interrupt, acked);
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
    }

    @Override
    public synchronized void processQueue(int queueIndex) {
        if (active == null || needsReset) {
            return;
        }
        boolean used;
        try {
            used = queueIndex == RX ? fillReceiveQueue() : drainTransmitQueue();
        } catch (QueueException | GuestMemoryException e) {
            fail(e.getMessage());
            return;
        }
        if (used) {
            active.interrupt().signalUsed(); // once per batch
        }
    }

    /** Host → guest: fill posted buffers while there are bytes. Takes a chain only if there is data for it. */
    private boolean fillReceiveQueue() throws QueueException {
        Queue q = active.queues().get(RX);
        GuestMemory mem = active.memory();
        boolean used = false;
        while (toGuest.size() > 0 && q.ready() && q.pending(mem) > 0) {
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
        return new ConsoleState(ackedFeatures, needsReset);
    }

    public synchronized void restore(ConsoleState s) {
        ackedFeatures = s.ackedFeatures();
        needsReset = s.needsReset();
    }
}
