package io.kiln.microvm.devices.virtio.rng;

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
import java.security.SecureRandom;
import java.util.List;

/** virtio-rng (entropy device): fills every writable buffer the guest posts from the host's SecureRandom. */
public final class RngDevice implements VirtioDevice {
    public static final int QUEUE_SIZE = 256;
    /** Per request, so one guest cannot make us generate gigabytes in one go. */
    private static final int MAX_BYTES_PER_REQUEST = 64 * 1024;

    // virtio
    private long ackedFeatures;
    // transport
    private ActivatedQueues active;
    private boolean needsReset;
    // device-specific
    private final SecureRandom random = new SecureRandom();
    private final RngMetrics metrics = new RngMetrics();

    public RngMetrics metrics() {
        return metrics;
    }

    @Override
    public int deviceType() {
        return Virtio.TYPE_RNG;
    }

    @Override
    public long availableFeatures() {
        return Virtio.F_VERSION_1;
    }

    @Override
    public int[] queueMaxSizes() {
        return new int[] {QUEUE_SIZE};
    }

    @Override
    public int configSize() {
        return 0;
    }

    @Override
    public void readConfig(long offset, byte[] data) {
        java.util.Arrays.fill(data, (byte) 0);
    }

    @Override
    public void writeConfig(long offset, byte[] data) {
    }

    @Override
    public synchronized void activate(GuestMemory memory, List<Queue> queues, VirtioInterrupt interrupt, long acked) {
        ackedFeatures = acked;
        active = new ActivatedQueues(memory, queues, interrupt, acked);
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
        if (active == null || needsReset || queueIndex != 0) {
            return;
        }
        Queue q = active.queues().get(0);
        GuestMemory mem = active.memory();
        boolean used = false;
        try {
            DescriptorChain chain;
            while (q.ready() && (chain = q.pop(mem)) != null) {
                int written = 0;
                for (Descriptor d : chain.descriptors()) {
                    if (!d.writable()) {
                        continue;
                    }
                    int n = Math.min(d.length(), MAX_BYTES_PER_REQUEST - written);
                    if (n <= 0) {
                        break;
                    }
                    byte[] bytes = new byte[n];
                    random.nextBytes(bytes);
                    mem.write(d.address(), bytes);
                    written += n;
                }
                q.addUsed(mem, chain.head(), written);
                metrics.requests.incrementAndGet();
                metrics.bytes.addAndGet(written);
                used = true;
            }
        } catch (QueueException | GuestMemoryException e) {
            metrics.invalidChains.incrementAndGet();
            metrics.lastError.set(e.getMessage());
            needsReset = true;
            active.interrupt().signalConfig();
            return;
        }
        if (used) {
            active.interrupt().signalUsed();
        }
    }

    public synchronized RngState state() {
        return new RngState(ackedFeatures, needsReset);
    }

    public synchronized void restore(RngState s) {
        ackedFeatures = s.ackedFeatures();
        needsReset = s.needsReset();
    }
}
