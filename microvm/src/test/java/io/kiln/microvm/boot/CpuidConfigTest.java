package io.kiln.microvm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kiln.microvm.kvm.CpuidEntry;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * CPUID normalisation, register for register, on fabricated KVM_GET_SUPPORTED_CPUID lists of an
 * AMD and an Intel host (values shaped like a Zen 3 and a Cascade Lake, bits chosen so every rule
 * has something to change).
 */
class CpuidConfigTest {
    private static CpuidEntry e(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {
        return new CpuidEntry(function, index, flags, eax, ebx, ecx, edx);
    }

    private static final CpuidEntry AMD_VENDOR = e(0, 0, 0, 0x10, 0x68747541, 0x444d4163, 0x69746e65);
    private static final CpuidEntry INTEL_VENDOR = e(0, 0, 0, 0x1b, 0x756e6547, 0x6c65746e, 0x49656e69);
    private static final CpuidEntry KVM_SIGNATURE = e(0x40000000, 0, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d);

    @Test
    void amdTwoVcpusSecondOne() {
        List<CpuidEntry> supported = List.of(
                AMD_VENDOR,
                e(1, 0, 0, 0x00a20f10, 0x12345678, 0x7ed8b20b, 0x078bfbff),
                e(7, 0, 1, 0, 0x219c91a9, 0x0040069c, 0x20000010),
                e(7, 1, 1, 0, 0, 0, 0x20000000),
                e(0xb, 0, 1, 1, 2, 0x100, 7),
                KVM_SIGNATURE,
                e(0x40000001, 0, 0, 0x01007afb, 0, 0, 0),
                e(0x80000001, 0, 0, 0x00a20f10, 0x20000000, 0x75c237ff, 0x2fd3fbff),
                e(0x80000008, 0, 0, 0x3030, 0, 0x0000700f, 0),
                e(0x8000001d, 0, 1, 0x00004121, 0x01c0003f, 0x3f, 0),
                e(0x8000001d, 3, 1, 0x0003c163, 0x03c0003f, 0x7fff, 1),
                e(0x8000001d, 4, 1, 0, 0, 0, 0),
                e(0x8000001e, 0, 0, 0x12, 0x00000109, 0x00000300, 0));

        List<CpuidEntry> expected = List.of(
                AMD_VENDOR,
                // APIC id 1, 2 ids per package, CLFLUSH 8; PDCM off, TSC-deadline and hypervisor on; HTT on
                e(1, 0, 0, 0x00a20f10, 0x01020878, 0xffd8320b, 0x178bfbff),
                // no IA32_ARCH_CAPABILITIES on AMD
                e(7, 0, 1, 0, 0x219c91a9, 0x0040069c, 0x00000010),
                e(7, 1, 1, 0, 0, 0, 0x20000000),
                // thread level: 1 thread; core level added: shift 1, 2 logical processors
                e(0xb, 0, 1, 0, 1, 0x100, 1),
                e(0xb, 1, 1, 1, 2, 0x201, 1),
                KVM_SIGNATURE,
                // async PF (+vmexit, +int), steal time, PV TLB flush, PV EOI masked; kvmclock kept
                e(0x40000001, 0, 0, 0x0100388b, 0, 0, 0),
                // TOPOEXT kept: KVM reported it and 0x8000001D and 0x8000001E
                e(0x80000001, 0, 0, 0x00a20f10, 0x20000000, 0x75c237ff, 0x2fd3fbff),
                // NC = 1 (two cores), APIC id size 1
                e(0x80000008, 0, 0, 0x3030, 0, 0x1001, 0),
                // L1 per core, L3 shared by both vCPUs, the terminator untouched
                e(0x8000001d, 0, 1, 0x00000121, 0x01c0003f, 0x3f, 0),
                e(0x8000001d, 3, 1, 0x00004163, 0x03c0003f, 0x7fff, 1),
                e(0x8000001d, 4, 1, 0, 0, 0, 0),
                // extended APIC id 1, core 1, one thread per core, one node
                e(0x8000001e, 0, 0, 1, 1, 0, 0));

        assertEquals(hex(expected), hex(CpuidConfig.forVcpu(supported, 1, 2, true)));
    }

    @Test
    void intelFourVcpusThirdOne() {
        List<CpuidEntry> supported = List.of(
                INTEL_VENDOR,
                e(1, 0, 0, 0x000906ea, 0x00100800, 0x7ffab223, 0x1f8bfbff),
                e(4, 0, 1, 0x1c004121, 0x01c0003f, 0x3f, 0),
                e(4, 3, 1, 0x1c03c163, 0x02c0003f, 0x3fff, 6),
                e(4, 4, 1, 0, 0, 0, 0),
                e(6, 0, 0, 0x000027f7, 2, 9, 0),
                e(7, 0, 1, 0, 0x029c67af, 0x40000020, 0xbc000400),
                e(0xa, 0, 0, 0x07300404, 0, 0, 0x603),
                e(0xb, 0, 1, 1, 2, 0x100, 0),
                e(0xb, 1, 1, 4, 8, 0x201, 0),
                e(0x1f, 0, 1, 1, 2, 0x100, 0),
                KVM_SIGNATURE,
                e(0x40000001, 0, 0, 0x01007aff, 0, 0, 0),
                e(0x80000001, 0, 0, 0, 0, 0x121, 0x2c100800),
                e(0x80000008, 0, 0, 0x3027, 0, 0, 0));

        List<CpuidEntry> expected = List.of(
                INTEL_VENDOR,
                // APIC id 2, 4 ids per package; no TSC-deadline (KVM lacks the cap), no PDCM; HTT on
                e(1, 0, 0, 0x000906ea, 0x02040800, 0xfefa3223, 0x1f8bfbff),
                // L1 per core, L3 shared by 4; 4 cores per package
                e(4, 0, 1, 0x0c000121, 0x01c0003f, 0x3f, 0),
                e(4, 3, 1, 0x0c00c163, 0x02c0003f, 0x3fff, 6),
                e(4, 4, 1, 0, 0, 0, 0),
                // no turbo, no energy-performance bias
                e(6, 0, 0, 0x000027f5, 2, 1, 0),
                // FDP_EXCPTN_ONLY and FPU CS/DS deprecation on, WAITPKG off
                e(7, 0, 1, 0, 0x029c67ef, 0x40000000, 0xbc000400),
                // no architectural PMU
                e(0xa, 0, 0, 0, 0, 0, 0),
                e(0xb, 0, 1, 0, 1, 0x100, 2),
                e(0xb, 1, 1, 2, 4, 0x201, 2),
                e(0x1f, 0, 1, 0, 1, 0x100, 2),
                e(0x1f, 1, 1, 2, 4, 0x201, 2),
                KVM_SIGNATURE,
                e(0x40000001, 0, 0, 0x0100388f, 0, 0, 0),
                // AMD-only leaves are Intel's own business
                e(0x80000001, 0, 0, 0, 0, 0x121, 0x2c100800),
                e(0x80000008, 0, 0, 0x3027, 0, 0, 0));

        assertEquals(hex(expected), hex(CpuidConfig.forVcpu(supported, 2, 4, false)));
    }

    @Test
    void oneVcpuHasNoHttAndAmdWithoutTopologyLeavesHasNoTopoext() {
        List<CpuidEntry> supported = List.of(AMD_VENDOR,
                e(1, 0, 0, 0x00a20f10, 0, 0x01000000, 0x178bfbff),
                e(0x80000001, 0, 0, 0, 0, 0x00400000, 0));
        assertEquals(hex(List.of(AMD_VENDOR,
                e(1, 0, 0, 0x00a20f10, 0x00010800, 0x80000000, 0x078bfbff),
                e(0x80000001, 0, 0, 0, 0, 0, 0))), hex(CpuidConfig.forVcpu(supported, 0, 1, false)));
    }

    @Test
    void vendorsAreReadFromLeafZero() {
        assertEquals("AuthenticAMD", CpuidConfig.vendorId(List.of(AMD_VENDOR)));
        assertEquals(CpuidConfig.Vendor.INTEL, CpuidConfig.vendor(List.of(INTEL_VENDOR)));
        assertEquals(CpuidConfig.Vendor.OTHER, CpuidConfig.vendor(List.of()));
    }

    @Test
    void anApicIdOutsideTheVmIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> CpuidConfig.forVcpu(List.of(AMD_VENDOR), 2, 2, true));
    }

    private static String hex(List<CpuidEntry> entries) {
        StringBuilder s = new StringBuilder();
        for (CpuidEntry c : entries) {
            s.append(String.format("%08x.%d flags=%d eax=%08x ebx=%08x ecx=%08x edx=%08x%n", c.function(), c.index(),
                    c.flags(), c.eax(), c.ebx(), c.ecx(), c.edx()));
        }
        return s.toString();
    }
}
