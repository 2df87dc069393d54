package io.kiln.microvm.probe;

/** What backs {@code /dev/kvm} on this host. */
public enum KvmKind {
    /** kvm_intel or kvm_amd: guests run at native speed; the Java engine is the default. */
    HARDWARE,
    /** A software hypervisor (kvm_pvm): works, but guest kernel code is emulated, far too slow for Linux. */
    SOFTWARE,
    /** No {@code /dev/kvm} device node. */
    ABSENT,
    /** The device exists but this user may not open it read-write. */
    NO_PERMISSION,
    /** The device exists and opens, but no known KVM module backs it, or opening failed otherwise. */
    UNUSABLE;

    /** True if the Java KVM engine can create and run VMs here at all. */
    public boolean usable() {
        return this == HARDWARE || this == SOFTWARE;
    }
}
