package io.kiln.microvm.probe;

/** The host probe's verdict: the kind of KVM and a sentence a human can act on. */
public record KvmProbeResult(KvmKind kind, String reason) {
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
