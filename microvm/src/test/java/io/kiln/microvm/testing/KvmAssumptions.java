package io.kiln.microvm.testing;

import io.kiln.microvm.probe.KvmProbe;
import io.kiln.microvm.probe.KvmProbeResult;
import org.junit.jupiter.api.Assumptions;

/** Skips a test, never silently: the probe's reason goes to stdout (the Maven log) and to JUnit. */
public final class KvmAssumptions {
    private KvmAssumptions() {
    }

    /** Any working /dev/kvm, hardware or software. */
    public static KvmProbeResult assumeKvm() {
        KvmProbeResult r = KvmProbe.probeHost();
        if (!r.usable()) {
            System.out.println("SKIP (needs /dev/kvm): " + r);
        }
        Assumptions.assumeTrue(r.usable(), "needs /dev/kvm: " + r);
        return r;
    }

    /** Hardware KVM only: for booting a real Linux guest, which software KVM cannot do in useful time. */
    public static KvmProbeResult assumeHardwareKvm() {
        KvmProbeResult r = KvmProbe.probeHost();
        if (!r.hardware()) {
            System.out.println("SKIP (needs hardware KVM): " + r);
        }
        Assumptions.assumeTrue(r.hardware(), "needs hardware KVM: " + r);
        return r;
    }
}
