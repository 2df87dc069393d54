package io.kiln.microvm.snapshot;

import io.kiln.microvm.kvm.KvmException;
import io.kiln.microvm.kvm.MsrEntry;
import io.kiln.microvm.kvm.VcpuFd;
import io.kiln.microvm.kvm.VmFd;
import java.util.ArrayList;
import java.util.List;

/** Reads KVM's vCPU and machine state into snapshot records, and writes it back, in the order KVM needs. */
public final class KvmStateIo {
    static final int IA32_TSC = 0x10;
    /** Linux never exports it and KVM refuses host writes of some values (Firecracker leaves it out too). */
    static final int IA32_MCG_CTL = 0x17b;
    /**
     * Restored after IA32_TSC: KVM arms the LAPIC timer from the TSC when the deadline is written,
     * so a deadline written against a stale TSC fires at the wrong time or never.
     */
    static final int IA32_TSC_DEADLINE = 0x6e0;
    private static final int MAX_CPUID = 256;
    /** A TSC rate within 250 ppm is the same rate: NTP absorbs it, and calibrations of one model differ by that much. */
    private static final long TSC_TOLERANCE_PPM = 250;

    private KvmStateIo() {
    }

    /**
     * The MSRs a snapshot saves: those KVM_GET_MSR_INDEX_LIST names that KVM_GET_MSRS can read on
     * this vCPU (the list includes MSRs of features the vCPU's CPUID does not have, such as PMU
     * counters with leaf 0xA zeroed), without IA32_MCG_CTL, and with IA32_TSC_DEADLINE last so a
     * restore writes it after the TSC. Each candidate is tried alone: KVM_GET_MSRS stops at the
     * first MSR it cannot read.
     */
    public static List<Integer> msrsToSave(List<Integer> indexList, VcpuFd probe) {
        List<Integer> out = new ArrayList<>();
        boolean deadline = false;
        for (int index : indexList) {
            if (index == IA32_MCG_CTL || out.contains(index) || probe.getMsrs(List.of(index)).size() != 1) {
                continue;
            }
            if (index == IA32_TSC_DEADLINE) {
                deadline = true;
            } else {
                out.add(index);
            }
        }
        if (deadline) {
            out.add(IA32_TSC_DEADLINE);
        }
        return out;
    }

    /**
     * mp_state first: KVM_GET_MP_STATE processes pending INIT/SIPI events, which changes the
     * LAPIC and registers read after it (Firecracker reads it first for the same reason).
     */
    public static VcpuState save(VcpuFd v, List<Integer> msrIndices) {
        byte[] mpState = v.getMpState();
        byte[] regs = v.getRegsRaw();
        byte[] sregs = v.getSregsRaw();
        byte[] fpu = v.getFpu();
        byte[] xsave = v.getXsave();
        byte[] xcrs = v.getXcrs();
        byte[] debugRegs = v.getDebugRegs();
        byte[] lapic = v.getLapic();
        List<MsrEntry> msrs = v.getMsrs(msrIndices);
        if (msrs.size() != msrIndices.size()) {
            throw new KvmException("KVM_GET_MSRS on vCPU " + v.id() + " read " + msrs.size() + " of " + msrIndices.size()
                    + " MSRs; the first it could not read is " + hex(msrIndices.get(msrs.size())));
        }
        byte[] events = v.getVcpuEvents();
        return new VcpuState(v.id(), regs, sregs, fpu, xsave, xcrs, lapic, mpState, events, debugRegs, msrs,
                v.getCpuid(MAX_CPUID));
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
        List<MsrEntry> msrs = msrsToRestore(s.msrs());
        int n = v.setMsrs(msrs);
        if (n != msrs.size()) {
            throw new KvmException("KVM_SET_MSRS on vCPU " + v.id() + " set " + n + " of " + msrs.size()
                    + " MSRs; the first it refused is " + hex(msrs.get(n).index()));
        }
        v.setVcpuEvents(s.events());
    }

    /**
     * The saved MSRs as a restore writes them: a TSC deadline of 0 becomes the saved TSC, so the
     * LAPIC timer fires as soon as the clone runs. Firecracker found that a snapshot sometimes
     * catches the deadline cleared before its interrupt was delivered, and the restored vCPU then
     * never gets another timer interrupt; an early one is harmless (the guest's timer code
     * re-arms), and KVM ignores the write when the timer is not in TSC-deadline mode.
     */
    public static List<MsrEntry> msrsToRestore(List<MsrEntry> saved) {
        long tsc = saved.stream().filter(m -> m.index() == IA32_TSC).mapToLong(MsrEntry::data).findFirst().orElse(0);
        if (tsc == 0) {
            return saved;
        }
        List<MsrEntry> out = new ArrayList<>(saved.size());
        for (MsrEntry m : saved) {
            out.add(m.index() == IA32_TSC_DEADLINE && m.data() == 0 ? new MsrEntry(IA32_TSC_DEADLINE, tsc) : m);
        }
        return out;
    }

    /** Whether a guest whose TSC ran at {@code savedKhz} needs scaling on a host whose TSC runs at {@code hereKhz}. */
    public static boolean tscNeedsScaling(int savedKhz, int hereKhz) {
        if (savedKhz <= 0 || hereKhz <= 0) {
            return false;
        }
        return Math.abs((long) savedKhz - hereKhz) * 1_000_000L > (long) savedKhz * TSC_TOLERANCE_PPM;
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

    static String hex(int msr) {
        return "0x" + Integer.toHexString(msr);
    }
}
