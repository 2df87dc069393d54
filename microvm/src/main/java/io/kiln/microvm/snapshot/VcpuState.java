package io.kiln.microvm.snapshot;

import io.kiln.microvm.kvm.CpuidEntry;
import io.kiln.microvm.kvm.MsrEntry;
import java.util.List;

/** Everything KVM holds for one vCPU, as the raw kernel structures (opaque, restored byte for byte). */
public record VcpuState(int id, byte[] regs, byte[] sregs, byte[] fpu, byte[] xsave, byte[] xcrs, byte[] lapic,
                        byte[] mpState, byte[] events, byte[] debugRegs, List<MsrEntry> msrs, List<CpuidEntry> cpuid) {
}
