package io.kiln.microvm.devices.virtio.queue;

/** One validated buffer of a chain: it lies entirely inside guest RAM. */
public record Descriptor(long address, int length, boolean writable) {
}
