package io.kiln.microvm.kvm;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.util.ArrayList;
import java.util.List;

/** A vCPU file descriptor: KVM_RUN with its mmap'd run structure, and every piece of vCPU state. */
public final class VcpuFd implements AutoCloseable {
    private final int fd;
    private final int id;
    private final Pointer runMapping;
    private final long runSize;
    private final KvmRun run;

    VcpuFd(int fd, int id, int mmapSize) {
        this.fd = fd;
        this.id = id;
        this.runSize = mmapSize;
        Pointer p = LibC.INSTANCE.mmap(null, mmapSize, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, 0);
        if (Pointer.nativeValue(p) == -1L) {
            int errno = Native.getLastError();
            LibC.INSTANCE.close(fd);
            throw new KvmException("mmap kvm_run", errno);
        }
        this.runMapping = p;
        this.run = new KvmRun(p);
    }

    public int id() {
        return id;
    }

    public KvmRun runState() {
        return run;
    }

    /** Enters the guest. Returns false if interrupted by a signal (EINTR/EAGAIN), true on a normal exit. */
    public boolean run() {
        int rc = LibC.INSTANCE.ioctl(fd, Ioctls.KVM_RUN, 0L);
        if (rc < 0) {
            int errno = Native.getLastError();
            if (errno == LibC.EINTR || errno == LibC.EAGAIN) {
                return false;
            }
            throw new KvmException("KVM_RUN", errno);
        }
        return true;
    }

    public Regs getRegs() {
        return Regs.decode(get("KVM_GET_REGS", Ioctls.KVM_GET_REGS, Ioctls.REGS_SIZE));
    }

    public void setRegs(Regs regs) {
        set("KVM_SET_REGS", Ioctls.KVM_SET_REGS, regs.encode(), Ioctls.REGS_SIZE);
    }

    public Sregs getSregs() {
        return Sregs.decode(get("KVM_GET_SREGS", Ioctls.KVM_GET_SREGS, Ioctls.SREGS_SIZE));
    }

    public void setSregs(Sregs sregs) {
        set("KVM_SET_SREGS", Ioctls.KVM_SET_SREGS, sregs.encode(), Ioctls.SREGS_SIZE);
    }

    // Opaque state, saved and restored byte for byte by snapshots.

    public byte[] getRegsRaw() {
        return get("KVM_GET_REGS", Ioctls.KVM_GET_REGS, Ioctls.REGS_SIZE);
    }

    public void setRegsRaw(byte[] s) {
        set("KVM_SET_REGS", Ioctls.KVM_SET_REGS, s, Ioctls.REGS_SIZE);
    }

    public byte[] getSregsRaw() {
        return get("KVM_GET_SREGS", Ioctls.KVM_GET_SREGS, Ioctls.SREGS_SIZE);
    }

    public void setSregsRaw(byte[] s) {
        set("KVM_SET_SREGS", Ioctls.KVM_SET_SREGS, s, Ioctls.SREGS_SIZE);
    }

    public byte[] getFpu() {
        return get("KVM_GET_FPU", Ioctls.KVM_GET_FPU, Ioctls.FPU_SIZE);
    }

    public void setFpu(byte[] s) {
        set("KVM_SET_FPU", Ioctls.KVM_SET_FPU, s, Ioctls.FPU_SIZE);
    }

    public byte[] getXsave() {
        return get("KVM_GET_XSAVE", Ioctls.KVM_GET_XSAVE, Ioctls.XSAVE_SIZE);
    }

    public void setXsave(byte[] s) {
        set("KVM_SET_XSAVE", Ioctls.KVM_SET_XSAVE, s, Ioctls.XSAVE_SIZE);
    }

    public byte[] getXcrs() {
        return get("KVM_GET_XCRS", Ioctls.KVM_GET_XCRS, Ioctls.XCRS_SIZE);
    }

    public void setXcrs(byte[] s) {
        set("KVM_SET_XCRS", Ioctls.KVM_SET_XCRS, s, Ioctls.XCRS_SIZE);
    }

    public byte[] getLapic() {
        return get("KVM_GET_LAPIC", Ioctls.KVM_GET_LAPIC, Ioctls.LAPIC_SIZE);
    }

    public void setLapic(byte[] s) {
        set("KVM_SET_LAPIC", Ioctls.KVM_SET_LAPIC, s, Ioctls.LAPIC_SIZE);
    }

    public byte[] getMpState() {
        return get("KVM_GET_MP_STATE", Ioctls.KVM_GET_MP_STATE, Ioctls.MP_STATE_SIZE);
    }

    public void setMpState(byte[] s) {
        set("KVM_SET_MP_STATE", Ioctls.KVM_SET_MP_STATE, s, Ioctls.MP_STATE_SIZE);
    }

    public byte[] getVcpuEvents() {
        return get("KVM_GET_VCPU_EVENTS", Ioctls.KVM_GET_VCPU_EVENTS, Ioctls.VCPU_EVENTS_SIZE);
    }

    public void setVcpuEvents(byte[] s) {
        set("KVM_SET_VCPU_EVENTS", Ioctls.KVM_SET_VCPU_EVENTS, s, Ioctls.VCPU_EVENTS_SIZE);
    }

    public byte[] getDebugRegs() {
        return get("KVM_GET_DEBUGREGS", Ioctls.KVM_GET_DEBUGREGS, Ioctls.DEBUGREGS_SIZE);
    }

    public void setDebugRegs(byte[] s) {
        set("KVM_SET_DEBUGREGS", Ioctls.KVM_SET_DEBUGREGS, s, Ioctls.DEBUGREGS_SIZE);
    }

    /** The vCPU's TSC frequency in kHz (needs {@link Ioctls#CAP_GET_TSC_KHZ}). */
    public int getTscKhz() {
        return KvmException.check("KVM_GET_TSC_KHZ", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_GET_TSC_KHZ, 0L));
    }

    /** Makes the guest's TSC run at {@code khz}, scaled by hardware (needs {@link Ioctls#CAP_TSC_CONTROL}). */
    public void setTscKhz(int khz) {
        KvmException.check("KVM_SET_TSC_KHZ", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_SET_TSC_KHZ, (long) khz));
    }

    /**
     * Tells the guest's kvmclock that the vCPU was stopped by the host, so its soft-lockup
     * watchdog does not count the pause. Returns false (and changes nothing) when the guest has
     * not set up kvmclock on this vCPU: KVM answers EINVAL then.
     */
    public boolean kvmclockCtrl() {
        int rc = LibC.INSTANCE.ioctl(fd, Ioctls.KVM_KVMCLOCK_CTRL, 0L);
        if (rc < 0) {
            int errno = Native.getLastError();
            if (errno == LibC.EINVAL) {
                return false;
            }
            throw new KvmException("KVM_KVMCLOCK_CTRL", errno);
        }
        return true;
    }

    public void setCpuid(List<CpuidEntry> entries) {
        KvmException.check("KVM_SET_CPUID2", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_SET_CPUID2, CpuidEntry.encodeList(entries)));
    }

    public List<CpuidEntry> getCpuid(int maxEntries) {
        Memory buf = new Memory(8 + (long) maxEntries * Ioctls.CPUID_ENTRY2_SIZE);
        buf.clear();
        buf.setInt(0, maxEntries);
        KvmException.check("KVM_GET_CPUID2", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_GET_CPUID2, buf));
        return CpuidEntry.decodeList(buf);
    }

    /** Reads the given MSRs; the kernel stops at the first one it cannot read, so fewer may come back. */
    public List<MsrEntry> getMsrs(List<Integer> indices) {
        Memory buf = msrBuffer(indices.size());
        for (int i = 0; i < indices.size(); i++) {
            buf.setInt(8 + 16L * i, indices.get(i));
        }
        int n = KvmException.check("KVM_GET_MSRS", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_GET_MSRS, buf));
        List<MsrEntry> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new MsrEntry(buf.getInt(8 + 16L * i), buf.getLong(8 + 16L * i + 8)));
        }
        return out;
    }

    /** Returns how many MSRs the kernel accepted (it stops at the first rejected one). */
    public int setMsrs(List<MsrEntry> entries) {
        Memory buf = msrBuffer(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            buf.setInt(8 + 16L * i, entries.get(i).index());
            buf.setLong(8 + 16L * i + 8, entries.get(i).data());
        }
        return KvmException.check("KVM_SET_MSRS", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_SET_MSRS, buf));
    }

    private static Memory msrBuffer(int n) {
        Memory buf = new Memory(8 + 16L * Math.max(n, 1));
        buf.clear();
        buf.setInt(0, n);
        return buf;
    }

    private byte[] get(String op, long request, int size) {
        Memory m = new Memory(size);
        m.clear();
        KvmException.check(op, LibC.INSTANCE.ioctl(fd, request, m));
        return m.getByteArray(0, size);
    }

    private void set(String op, long request, byte[] state, int size) {
        KvmException.check(op, LibC.INSTANCE.ioctl(fd, request, VmFd.blob(state, size)));
    }

    @Override
    public void close() {
        LibC.INSTANCE.munmap(runMapping, runSize);
        LibC.INSTANCE.close(fd);
    }
}
