package io.kiln.microvm.devices.virtio.rng;

/** The rng device's own snapshot state (the entropy source is never saved). */
public record RngState(long ackedFeatures, boolean needsReset) {
}
