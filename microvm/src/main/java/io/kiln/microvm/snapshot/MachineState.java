package io.kiln.microvm.snapshot;

/** VM-wide in-kernel state: the two PICs, the IOAPIC, the PIT and the kvmclock. */
public record MachineState(byte[] picMaster, byte[] picSlave, byte[] ioapic, byte[] pit, byte[] clock) {
}
