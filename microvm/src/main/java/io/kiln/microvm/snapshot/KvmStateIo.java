package io.kiln.microvm.snapshot;

import io.kiln.microvm.kvm.MsrEntry;
import io.kiln.microvm.kvm.KvmException;
import io.kiln.microvm.kvm.VcpuFd;
import io.kiln.microvm.kvm.VmFd;
import java.util.ArrayList;
import java.util.List;

/** Reads KVM's vCPU and machine state into snapshot records, and writes it back, in the order KVM needs. */
public final class KvmStateIo {
    /** MSRs saved per vCPU: the boot set plus the APIC base and PAT (EFER travels in sregs). */
    private static final int[] SAVED_MSRS = {0x10, 0x1b, 0x174, 0x175, 0x176, 0x1a0, 0x277, 0x2ff,
        0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000102};
    private static final int MAX_CPUID = 256;

    private KvmStateIo() {
    }

    public static VcpuState save(VcpuFd v) {
        List<Integer> indices = new ArrayList<>();
        for (int i : SAVED_MSRS) {
            indices.add(i);
        }
        return new VcpuState(v.id(), v.getRegsRaw(), v.getSregsRaw(), v.getFpu(), v.getXsave(), v.getXcrs(), v.getLapic(),
                v.getMpState(), v.getVcpuEvents(), v.getDebugRegs(), v.getMsrs(indices), v.getCpuid(MAX_CPUID));
    }

    /** CPUID first (it decides what the rest may contain), then registers, LAPIC, MSRs, and pending events last. */
    public static void restore(VcpuFd v, VcpuState s) {
        v.setCpuid(s.cpuid());
        v.setMpState(s.mpState());
        v.setRegsRaw(s.regs());
        v.setSregsRaw(s.sregs());
        v.setFpu(s.fpu());
        v.setXsave(s.xsave());
        v.setXcrs(s.xcrs());
        v.setDebugRegs(s.debugRegs());
        v.setLapic(s.lapic());
        List<MsrEntry> msrs = s.msrs();
        int n = v.setMsrs(msrs);
        if (n != msrs.size()) {
            throw new KvmException("KVM restored only " + n + " of " + msrs.size() + " MSRs");
        }
        v.setVcpuEvents(s.events());
    }

    public static MachineState save(VmFd vm) {
        return new MachineState(vm.getIrqchip(VmFd.IRQCHIP_PIC_MASTER), vm.getIrqchip(VmFd.IRQCHIP_PIC_SLAVE),
                vm.getIrqchip(VmFd.IRQCHIP_IOAPIC), vm.getPit2(), vm.getClock());
    }

    public static void restore(VmFd vm, MachineState s) {
        vm.setPit2(s.pit());
        vm.setClock(s.clock());
        vm.setIrqchip(s.picMaster());
        vm.setIrqchip(s.picSlave());
        vm.setIrqchip(s.ioapic());
    }
}
