package io.kiln.microvm.devices.virtio;

import io.kiln.microvm.devices.virtio.queue.Queue;
import io.kiln.microvm.memory.GuestMemory;
import java.util.List;

/**
 * What the virtio-mmio transport needs from a device model. The transport owns the registers,
 * feature negotiation and queue configuration; the device owns what the queues mean.
 * Register accesses arrive on vCPU threads, queue work on the device thread: implementations
 * synchronize on themselves.
 */
public interface VirtioDevice {
    int deviceType();

    /** Feature bits offered; must include {@link Virtio#F_VERSION_1}. */
    long availableFeatures();

    int[] queueMaxSizes();

    int configSize();

    void readConfig(long offset, byte[] data);

    void writeConfig(long offset, byte[] data);

    /** The driver set DRIVER_OK with valid queues: start serving them. */
    void activate(GuestMemory memory, List<Queue> queues, VirtioInterrupt interrupt, long ackedFeatures);

    /** The driver notified {@code queueIndex}, or the host has new data for it. Device thread only. */
    void processQueue(int queueIndex);

    /** The driver wrote 0 to status: forget the queues and any error. */
    void reset();

    /** True once the device met a malformed queue and stopped (DEVICE_NEEDS_RESET). */
    boolean needsReset();

    boolean activated();
}
