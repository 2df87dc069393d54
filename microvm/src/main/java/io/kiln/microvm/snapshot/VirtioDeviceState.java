package io.kiln.microvm.snapshot;

import io.kiln.microvm.devices.virtio.mmio.MmioState;

/** One virtio-mmio slot: its device type, transport registers and queues, and the device's own flags. */
public record VirtioDeviceState(int slot, int deviceType, MmioState transport, long deviceAckedFeatures,
                                boolean deviceNeedsReset) {
}
