package io.kiln.microvm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.microvm.kvm.CpuidEntry;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The host CPU a snapshot records: decoded signature, and a CPUID hash blind to which core answered. */
class HostCpuTest {
    private static final CpuidEntry AMD = new CpuidEntry(0, 0, 0, 0x10, 0x68747541, 0x444d4163, 0x69746e65);

    private static List<CpuidEntry> zen3(int apicId, int avx2) {
        return List.of(AMD,
                new CpuidEntry(1, 0, 0, 0x00a20f10, 0x00100800 | (apicId << 24), 0x7ed8320b, 0x178bfbff),
                new CpuidEntry(7, 0, 1, 0, 0x219c91a9 & ~(1 << 5) | avx2 << 5, 0, 0),
                new CpuidEntry(0xb, 0, 1, 1, 2, 0x100, apicId),
                new CpuidEntry(0x8000001e, 0, 0, apicId, 0x100 | apicId, 0, 0));
    }

    @Test
    void familyModelSteppingAreDecodedWithTheExtendedFields() {
        HostCpu cpu = HostCpu.of(zen3(0, 1));
        assertEquals("AuthenticAMD", cpu.vendor());
        assertEquals(0x19, cpu.family(), "0xf + extended family 0xa");
        assertEquals(0x21, cpu.model(), "extended model 2, model 1");
        assertEquals(0, cpu.stepping());
        HostCpu intel = HostCpu.of(List.of(new CpuidEntry(1, 0, 0, 0x000906ea, 0, 0, 0)));
        assertEquals(6, intel.family());
        assertEquals(0x9e, intel.model());
        assertEquals(10, intel.stepping());
    }

    @Test
    void theCoreThatAnsweredDoesNotChangeItAFeatureDoes() {
        HostCpu core0 = HostCpu.of(zen3(0, 1));
        assertEquals(core0, HostCpu.of(zen3(5, 1)));
        assertEquals(core0.fingerprint(), HostCpu.of(zen3(5, 1)).fingerprint());
        HostCpu noAvx2 = HostCpu.of(zen3(0, 0));
        assertNotEquals(core0, noAvx2);
        assertNotEquals(core0.fingerprint(), noAvx2.fingerprint());
        assertTrue(core0.fingerprint().matches("[0-9a-f]{12}"), core0.fingerprint());
        assertTrue(core0.describe().startsWith("AuthenticAMD family 0x19 model 0x21 stepping 0, KVM CPUID sha256 "),
                core0.describe());
    }
}
