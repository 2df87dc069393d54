package io.kiln.microvm.vm;

/** Why a VM stopped running for good. */
public record VmExit(Reason reason, String detail) {
    public enum Reason {
        /** The guest asked for a reset (i8042 0xFE, Linux {@code reboot=k}): a clean stop. */
        GUEST_RESET,
        /** The guest triple-faulted or requested power-off. */
        GUEST_SHUTDOWN,
        /** The host destroyed the VM. */
        DESTROYED,
        /** KVM or the VMM failed (entry failure, emulation error, exception in a vCPU thread). */
        ERROR
    }
}
