package io.kiln.microvm.devices.virtio.queue;

/** A split virtqueue's configuration and progress, as saved in a snapshot. */
public record QueueState(int maxSize, int size, boolean ready, long descTable, long availRing, long usedRing,
                         int nextAvail, int nextUsed) {
}
