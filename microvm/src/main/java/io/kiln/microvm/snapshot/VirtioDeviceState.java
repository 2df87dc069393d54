package io.kiln.microvm.snapshot;

import io.kiln.microvm.devices.virtio.mmio.MmioState;

/**
 * One virtio-mmio slot: its device type, transport registers and queues, and the device's own
 * state: its flags, and for the console (the only device with a control queue) the function-channel
 * port's control-protocol stage ({@code ConsoleState.Stage} code) and whether the guest has it open.
 * Other devices record stage 0 and closed.
 */
public record VirtioDeviceState(int slot, int deviceType, MmioState transport, long deviceAckedFeatures,
                                boolean deviceNeedsReset, int devicePortStage, boolean devicePortGuestOpen) {
}
