package io.kiln.microvm.boot;

import io.kiln.microvm.kvm.CpuidEntry;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns KVM_GET_SUPPORTED_CPUID into one vCPU's CPUID: its APIC id in leaf 1 and the x2APIC
 * topology leaves, the logical CPU count, and the hypervisor bit, so Linux numbers CPUs the way
 * the MP table does.
 */
public final class CpuidConfig {
    private static final int LEAF1_ECX_HYPERVISOR = 1 << 31;
    private static final int LEAF1_EDX_HTT = 1 << 28;

    private CpuidConfig() {
    }

    public static List<CpuidEntry> forVcpu(List<CpuidEntry> supported, int apicId, int vcpuCount) {
        List<CpuidEntry> out = new ArrayList<>(supported.size());
        for (CpuidEntry e : supported) {
            switch (e.function()) {
                case 1 -> {
                    int ebx = (e.ebx() & 0x0000ffff) | (apicId << 24) | (Math.min(vcpuCount, 255) << 16);
                    int edx = vcpuCount > 1 ? e.edx() | LEAF1_EDX_HTT : e.edx() & ~LEAF1_EDX_HTT;
                    out.add(e.withEbx(ebx).withEcx(e.ecx() | LEAF1_ECX_HYPERVISOR).withEdx(edx));
                }
                case 0xb, 0x1f -> out.add(e.withEdx(apicId));
                default -> out.add(e);
            }
        }
        return out;
    }
}
