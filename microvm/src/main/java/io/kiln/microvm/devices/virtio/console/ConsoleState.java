package io.kiln.microvm.devices.virtio.console;

/**
 * The console device's own snapshot state. Bytes still buffered on the host side are not part of
 * it: they belong to the host connection, which does not survive a snapshot.
 */
public record ConsoleState(long ackedFeatures, boolean needsReset) {
}
