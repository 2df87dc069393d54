package io.kiln.microvm.vm;

/** Why a VM stopped running for good. */
public record VmExit(Reason reason, String detail) {
    public enum Reason {
        /**
         * The guest reset itself: a triple fault (how Kiln guests reboot, {@code reboot=t}, also
         * after a kernel panic or when the agent exits) or an i8042 reset ({@code reboot=k}).
         */
        GUEST_RESET,
        /** The guest halted for good or asked for power-off. */
        GUEST_SHUTDOWN,
        /** The host destroyed the VM. */
        DESTROYED,
        /** KVM or the VMM failed (entry failure, emulation error, exception in a vCPU thread). */
        ERROR
    }
}
