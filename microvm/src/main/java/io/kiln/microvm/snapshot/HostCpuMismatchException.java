package io.kiln.microvm.snapshot;

import io.kiln.microvm.boot.HostCpu;
import java.io.IOException;

/**
 * A snapshot taken on another CPU (or one whose TSC runs at another rate that this host cannot
 * scale to): restoring it could give the guest features the CPU lacks, or an XSAVE or MSR state
 * KVM refuses half way. Rebuild the snapshot on this host instead.
 */
public final class HostCpuMismatchException extends IOException {
    private final HostCpu snapshot;
    private final HostCpu here;

    public HostCpuMismatchException(String message, HostCpu snapshot, HostCpu here) {
        super(message);
        this.snapshot = snapshot;
        this.here = here;
    }

    public HostCpu snapshotCpu() {
        return snapshot;
    }

    public HostCpu hostCpu() {
        return here;
    }
}
