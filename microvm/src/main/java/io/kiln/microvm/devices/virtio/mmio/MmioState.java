package io.kiln.microvm.devices.virtio.mmio;

import io.kiln.microvm.devices.virtio.queue.QueueState;
import java.util.List;

/** The virtio-mmio transport's registers and queues, as saved in a snapshot. */
public record MmioState(int deviceFeaturesSel, int driverFeaturesSel, long ackedFeatures, int queueSel,
                        int status, int interruptStatus, boolean needsReset, List<QueueState> queues) {
}
