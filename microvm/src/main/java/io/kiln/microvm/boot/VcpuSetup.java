package io.kiln.microvm.boot;

import io.kiln.microvm.kvm.CpuidEntry;
import io.kiln.microvm.kvm.KvmException;
import io.kiln.microvm.kvm.Regs;
import io.kiln.microvm.kvm.Sregs;
import io.kiln.microvm.kvm.VcpuFd;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Puts a vCPU in the state Linux's 64-bit entry expects: long mode with paging on the identity
 * map, flat segments from our GDT, rsi = zero page, a small stack; plus CPUID, MSRs, FPU and the
 * LAPIC's LINT0/LINT1 wiring. Application processors get the same state but stay in
 * wait-for-SIPI until the BSP starts them (KVM does that with an in-kernel irqchip).
 */
public final class VcpuSetup {
    private static final long CR0_PE = 1;
    private static final long CR0_ET = 1 << 4;
    private static final long CR0_PG = 1L << 31;
    private static final long CR4_PAE = 1 << 5;
    private static final long EFER_LME = 1 << 8;
    private static final long EFER_LMA = 1 << 10;
    private static final int APIC_LVT0 = 0x350;
    private static final int APIC_LVT1 = 0x360;
    private static final int APIC_MODE_NMI = 4;
    private static final int APIC_MODE_EXTINT = 7;

    private VcpuSetup() {
    }

    /** {@code tscDeadline}: whether KVM has KVM_CAP_TSC_DEADLINE_TIMER (the CPUID bit follows it). */
    public static void configure(VcpuFd vcpu, int vcpuCount, long entry, List<CpuidEntry> supportedCpuid, boolean tscDeadline) {
        vcpu.setCpuid(CpuidConfig.forVcpu(supportedCpuid, vcpu.id(), vcpuCount, tscDeadline));
        int accepted = vcpu.setMsrs(BootMsrs.initial());
        if (accepted != BootMsrs.initial().size()) {
            throw new KvmException("KVM accepted only " + accepted + " of " + BootMsrs.initial().size()
                    + " boot MSRs (first rejected: 0x" + Integer.toHexString(BootMsrs.initial().get(accepted).index()) + ")");
        }
        configureRegisters(vcpu, entry);
        configureFpu(vcpu);
        configureLint(vcpu);
    }

    static void configureRegisters(VcpuFd vcpu, long entry) {
        vcpu.setRegs(Regs.entry(entry, BootLayout.BOOT_STACK_POINTER, BootLayout.ZERO_PAGE_ADDR));
        Sregs s = vcpu.getSregs();
        vcpu.setSregs(s.withLongMode(Gdt.code(), Gdt.data(), Gdt.tss(), Gdt.gdtr(), Gdt.idtr(),
                s.cr0() | CR0_PE | CR0_ET | CR0_PG, BootLayout.PML4_ADDR, s.cr4() | CR4_PAE,
                s.efer() | EFER_LME | EFER_LMA));
    }

    /** x87 control word 0x37f and MXCSR 0x1f80: the values after FNINIT, as Linux assumes. */
    static void configureFpu(VcpuFd vcpu) {
        ByteBuffer fpu = ByteBuffer.allocate(416).order(ByteOrder.LITTLE_ENDIAN);
        fpu.putShort(128, (short) 0x37f);
        fpu.putInt(408, 0x1f80);
        vcpu.setFpu(fpu.array());
    }

    static void configureLint(VcpuFd vcpu) {
        ByteBuffer lapic = ByteBuffer.wrap(vcpu.getLapic()).order(ByteOrder.LITTLE_ENDIAN);
        lapic.putInt(APIC_LVT0, (lapic.getInt(APIC_LVT0) & ~0x700) | (APIC_MODE_EXTINT << 8));
        lapic.putInt(APIC_LVT1, (lapic.getInt(APIC_LVT1) & ~0x700) | (APIC_MODE_NMI << 8));
        vcpu.setLapic(lapic.array());
    }
}
