package io.kiln.microvm.probe;

/**
 * The host probe's verdict: the kind of KVM, the kernel module behind it ({@code kvm_amd},
 * {@code kvm_intel}, {@code kvm_pvm}; empty when none is known) and a sentence a human can act on.
 */
public record KvmProbeResult(KvmKind kind, String module, String reason) {

    public KvmProbeResult(KvmKind kind, String reason) {
        this(kind, "", reason);
    }

    public boolean usable() {
        return kind.usable();
    }

    public boolean hardware() {
        return kind == KvmKind.HARDWARE;
    }

    @Override
    public String toString() {
        return kind + ": " + reason;
    }
}
