package io.kiln.microvm.boot;

import io.kiln.microvm.kvm.CpuidEntry;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns KVM_GET_SUPPORTED_CPUID into one vCPU's CPUID, in the spirit of Firecracker's
 * normalisation: a pure function of KVM's list, the vCPU's APIC id, the VM's vCPU count and
 * whether KVM emulates the TSC-deadline timer. The VM is one package of {@code vcpuCount} cores
 * with one thread each; APIC ids are 0..n-1, as the MP table says.
 *
 * <p>What changes, and why:
 * <ul>
 *   <li>Leaf 1: APIC id, CLFLUSH line size 8 (64 bytes), the package's logical count (the next
 *       power of two, valid only with HTT, set when there is more than one vCPU), the hypervisor
 *       bit; PDCM off (no IA32_PERF_CAPABILITIES); TSC-deadline only if KVM has
 *       {@code KVM_CAP_TSC_DEADLINE_TIMER}.</li>
 *   <li>Leaf 0xB (and 0x1F on Intel, a copy of it): level 0 is the thread level (shift 0, one
 *       thread), level 1 the core level (shift covering every vCPU, {@code vcpuCount} logical
 *       processors); deeper levels invalid; EDX the x2APIC id everywhere. KVM 6.2+ reports only
 *       sub-leaf 0, so sub-leaf 1 is added.</li>
 *   <li>Intel: leaf 4's sharing counts (L1/L2 per core, L3 per package, cores per package), leaf
 *       6 without turbo and energy-performance bias, leaf 7 with FDP_EXCPTN_ONLY and the FPU
 *       CS/DS deprecation set and WAITPKG off (UMWAIT would idle the physical core), leaf 0xA
 *       (architectural PMU) zeroed.</li>
 *   <li>AMD (and Hygon): 0x80000008 ECX's core count and APIC-id size, 0x8000001D's sharing
 *       counts, 0x8000001E's extended APIC id, core id, one thread per core and one node;
 *       TOPOEXT kept only if KVM also reported both of those leaves (Firecracker forces it on,
 *       but it copies the host's 0x8000001D, which Java cannot read; KVM's copy is only valid
 *       where the host has TOPOEXT); leaf 7 without ARCH_CAPABILITIES, which
 *       AMD hardware does not have.</li>
 *   <li>Leaf 0x40000001 (KVM's paravirtual features): async page faults, steal time, PV TLB flush
 *       (it uses the steal-time record) and PV EOI are masked, because their state is not carried
 *       by a snapshot: outstanding async page faults live only in the host's KVM, steal time is
 *       accounted against the host thread that set it up, and a pending PV EOI is a KVM flag
 *       outside KVM_GET_LAPIC. kvmclock and the stateless hints stay.</li>
 * </ul>
 * Leaves KVM did not report are not invented (except 0xB sub-leaf 1 next to sub-leaf 0); entries
 * keep KVM's order.
 */
public final class CpuidConfig {
    public enum Vendor { INTEL, AMD, OTHER }

    static final int LEAF1_ECX_PDCM = 1 << 15;
    static final int LEAF1_ECX_TSC_DEADLINE = 1 << 24;
    static final int LEAF1_ECX_HYPERVISOR = 1 << 31;
    static final int LEAF1_EDX_HTT = 1 << 28;
    static final int LEAF6_EAX_TURBO = 1 << 1;
    static final int LEAF6_ECX_EPB = 1 << 3;
    static final int LEAF7_EBX_FDP_EXCPTN_ONLY = 1 << 6;
    static final int LEAF7_EBX_FPU_CSDS_DEPRECATED = 1 << 13;
    static final int LEAF7_ECX_WAITPKG = 1 << 5;
    static final int LEAF7_EDX_ARCH_CAPABILITIES = 1 << 29;
    static final int EXT1_ECX_TOPOEXT = 1 << 22;
    static final int SIGNIFICANT_INDEX = 1;

    public static final int KVM_FEATURES_LEAF = 0x40000001;
    static final int KVM_FEATURE_ASYNC_PF = 1 << 4;
    static final int KVM_FEATURE_STEAL_TIME = 1 << 5;
    static final int KVM_FEATURE_PV_EOI = 1 << 6;
    static final int KVM_FEATURE_PV_TLB_FLUSH = 1 << 9;
    static final int KVM_FEATURE_ASYNC_PF_VMEXIT = 1 << 10;
    static final int KVM_FEATURE_ASYNC_PF_INT = 1 << 14;
    /** The paravirtual features whose state a snapshot does not carry (see the class comment). */
    public static final int KVM_FEATURES_NOT_IN_SNAPSHOTS = KVM_FEATURE_ASYNC_PF | KVM_FEATURE_ASYNC_PF_VMEXIT
            | KVM_FEATURE_ASYNC_PF_INT | KVM_FEATURE_STEAL_TIME | KVM_FEATURE_PV_TLB_FLUSH | KVM_FEATURE_PV_EOI;

    private CpuidConfig() {
    }

    /** The vendor named in leaf 0 (EBX, EDX, ECX: "GenuineIntel", "AuthenticAMD", "HygonGenuine"). */
    public static Vendor vendor(List<CpuidEntry> cpuid) {
        String id = vendorId(cpuid);
        return switch (id) {
            case "GenuineIntel" -> Vendor.INTEL;
            case "AuthenticAMD", "HygonGenuine" -> Vendor.AMD;
            default -> Vendor.OTHER;
        };
    }

    /** Leaf 0's twelve vendor characters, or "" if KVM reported no leaf 0. */
    public static String vendorId(List<CpuidEntry> cpuid) {
        for (CpuidEntry e : cpuid) {
            if (e.function() == 0) {
                StringBuilder s = new StringBuilder(12);
                for (int r : new int[] {e.ebx(), e.edx(), e.ecx()}) {
                    for (int i = 0; i < 4; i++) {
                        s.append((char) ((r >>> (8 * i)) & 0xff));
                    }
                }
                return s.toString();
            }
        }
        return "";
    }

    public static List<CpuidEntry> forVcpu(List<CpuidEntry> supported, int apicId, int vcpuCount, boolean tscDeadline) {
        if (vcpuCount < 1 || vcpuCount > 128 || apicId < 0 || apicId >= vcpuCount) {
            throw new IllegalArgumentException("APIC id " + apicId + " of " + vcpuCount + " vCPUs");
        }
        Vendor vendor = vendor(supported);
        boolean amdTopology = has(supported, 0x8000001d) && has(supported, 0x8000001e);
        int packageIds = nextPowerOfTwo(vcpuCount);
        int coreShift = Integer.numberOfTrailingZeros(packageIds);
        List<CpuidEntry> out = new ArrayList<>(supported.size() + 1);
        for (CpuidEntry e : supported) {
            switch (e.function()) {
                case 1 -> {
                    int ebx = (e.ebx() & 0xff) | (8 << 8) | (packageIds << 16) | (apicId << 24);
                    int ecx = (e.ecx() & ~LEAF1_ECX_PDCM & ~LEAF1_ECX_TSC_DEADLINE) | LEAF1_ECX_HYPERVISOR
                            | (tscDeadline ? LEAF1_ECX_TSC_DEADLINE : 0);
                    int edx = vcpuCount > 1 ? e.edx() | LEAF1_EDX_HTT : e.edx() & ~LEAF1_EDX_HTT;
                    out.add(e.withEbx(ebx).withEcx(ecx).withEdx(edx));
                }
                case 4 -> out.add(vendor == Vendor.INTEL ? cacheSharing(e, vcpuCount, 26) : e);
                case 6 -> out.add(vendor == Vendor.INTEL
                        ? e.withEax(e.eax() & ~LEAF6_EAX_TURBO).withEcx(e.ecx() & ~LEAF6_ECX_EPB) : e);
                case 7 -> {
                    if (e.index() != 0) {
                        out.add(e);
                    } else if (vendor == Vendor.INTEL) {
                        out.add(e.withEbx(e.ebx() | LEAF7_EBX_FDP_EXCPTN_ONLY | LEAF7_EBX_FPU_CSDS_DEPRECATED)
                                .withEcx(e.ecx() & ~LEAF7_ECX_WAITPKG));
                    } else if (vendor == Vendor.AMD) {
                        out.add(e.withEdx(e.edx() & ~LEAF7_EDX_ARCH_CAPABILITIES));
                    } else {
                        out.add(e);
                    }
                }
                case 0xa -> out.add(vendor == Vendor.INTEL ? new CpuidEntry(e.function(), e.index(), e.flags(), 0, 0, 0, 0) : e);
                case 0xb -> {
                    out.add(topologyLevel(e.function(), e.index(), apicId, vcpuCount, coreShift));
                    if (e.index() == 0 && !has(supported, 0xb, 1)) {
                        out.add(topologyLevel(0xb, 1, apicId, vcpuCount, coreShift));
                    }
                }
                case 0x1f -> {
                    out.add(topologyLevel(e.function(), e.index(), apicId, vcpuCount, coreShift));
                    if (e.index() == 0 && !has(supported, 0x1f, 1)) {
                        out.add(topologyLevel(0x1f, 1, apicId, vcpuCount, coreShift));
                    }
                }
                case KVM_FEATURES_LEAF -> out.add(e.withEax(e.eax() & ~KVM_FEATURES_NOT_IN_SNAPSHOTS));
                case 0x80000001 -> out.add(vendor == Vendor.AMD && !amdTopology ? e.withEcx(e.ecx() & ~EXT1_ECX_TOPOEXT) : e);
                case 0x80000008 -> out.add(vendor == Vendor.AMD
                        ? e.withEcx((e.ecx() & ~0xf0ff) | (coreShift << 12) | (vcpuCount - 1)) : e);
                case 0x8000001d -> out.add(vendor == Vendor.AMD ? cacheSharing(e, vcpuCount, -1) : e);
                case 0x8000001e -> out.add(vendor == Vendor.AMD
                        ? e.withEax(apicId).withEbx((e.ebx() & ~0xffff) | apicId).withEcx(e.ecx() & ~0x7ff) : e);
                default -> out.add(e);
            }
        }
        return out;
    }

    /**
     * A deterministic cache parameters entry (Intel leaf 4, AMD 0x8000001D): EAX[25:14] is the
     * number of logical processors sharing the cache, minus one: one for L1 and L2 (one thread
     * per core), every vCPU for L3. With {@code coresBit} 26, EAX[31:26] is the package's cores
     * minus one (Intel only). An entry with cache type 0 ends the list and is left alone.
     */
    private static CpuidEntry cacheSharing(CpuidEntry e, int vcpuCount, int coresBit) {
        if ((e.eax() & 0x1f) == 0) {
            return e;
        }
        int level = (e.eax() >>> 5) & 0x7;
        int sharing = level == 3 ? vcpuCount - 1 : 0;
        int eax = (e.eax() & ~(0xfff << 14)) | (sharing << 14);
        if (coresBit == 26) {
            eax = (eax & 0x03ffffff) | ((vcpuCount - 1) << 26);
        }
        return e.withEax(eax);
    }

    /** One sub-leaf of 0xB/0x1F: 0 the thread level, 1 the core level, others invalid. */
    private static CpuidEntry topologyLevel(int function, int index, int apicId, int vcpuCount, int coreShift) {
        return switch (index) {
            case 0 -> new CpuidEntry(function, 0, SIGNIFICANT_INDEX, 0, 1, 1 << 8, apicId);
            case 1 -> new CpuidEntry(function, 1, SIGNIFICANT_INDEX, coreShift, vcpuCount, 1 | (2 << 8), apicId);
            default -> new CpuidEntry(function, index, SIGNIFICANT_INDEX, 0, 0, index & 0xff, apicId);
        };
    }

    private static boolean has(List<CpuidEntry> cpuid, int function) {
        return cpuid.stream().anyMatch(e -> e.function() == function);
    }

    private static boolean has(List<CpuidEntry> cpuid, int function, int index) {
        return cpuid.stream().anyMatch(e -> e.function() == function && e.index() == index);
    }

    static int nextPowerOfTwo(int n) {
        return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    }
}
