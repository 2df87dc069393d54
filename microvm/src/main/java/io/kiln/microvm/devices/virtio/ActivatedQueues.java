package io.kiln.microvm.devices.virtio;

import io.kiln.microvm.devices.virtio.queue.Queue;
import io.kiln.microvm.memory.GuestMemory;
import java.util.List;

/** What a device gets at activation: the memory its queues point into, the queues, the interrupt. */
public record ActivatedQueues(GuestMemory memory, List<Queue> queues, VirtioInterrupt interrupt, long ackedFeatures) {
}
