package io.kiln.microvm.kvm;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/** A VM file descriptor: memory slots, in-kernel irqchip/PIT/clock, irqfd, ioeventfd, vCPUs. */
public final class VmFd implements AutoCloseable {
    /** Chip ids for KVM_GET/SET_IRQCHIP. */
    public static final int IRQCHIP_PIC_MASTER = 0;
    public static final int IRQCHIP_PIC_SLAVE = 1;
    public static final int IRQCHIP_IOAPIC = 2;
    private static final int PIT_SPEAKER_DUMMY = 1;
    private static final int IOEVENTFD_FLAG_DATAMATCH = 1;
    private static final int IOEVENTFD_FLAG_PIO = 2;
    private static final int IOEVENTFD_FLAG_DEASSIGN = 4;
    private static final int IRQFD_FLAG_DEASSIGN = 1;

    private final int fd;
    private final int vcpuMmapSize;

    VmFd(int fd, int vcpuMmapSize) {
        this.fd = fd;
        this.vcpuMmapSize = vcpuMmapSize;
    }

    public int fd() {
        return fd;
    }

    public void setUserMemoryRegion(int slot, long guestPhysAddr, long size, Pointer host) {
        Memory r = new Memory(Ioctls.MEMORY_REGION_SIZE);
        r.setInt(0, slot);
        r.setInt(4, 0);
        r.setLong(8, guestPhysAddr);
        r.setLong(16, size);
        r.setLong(24, Pointer.nativeValue(host));
        KvmException.check("KVM_SET_USER_MEMORY_REGION", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_SET_USER_MEMORY_REGION, r));
    }

    public void setTssAddress(long address) {
        KvmException.check("KVM_SET_TSS_ADDR", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_SET_TSS_ADDR, address));
    }

    public void setIdentityMapAddress(long address) {
        Memory m = new Memory(8);
        m.setLong(0, address);
        KvmException.check("KVM_SET_IDENTITY_MAP_ADDR", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_SET_IDENTITY_MAP_ADDR, m));
    }

    public void createIrqchip() {
        KvmException.check("KVM_CREATE_IRQCHIP", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_CREATE_IRQCHIP, 0L));
    }

    public void createPit2() {
        Memory c = new Memory(Ioctls.PIT_CONFIG_SIZE);
        c.clear();
        c.setInt(0, PIT_SPEAKER_DUMMY);
        KvmException.check("KVM_CREATE_PIT2", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_CREATE_PIT2, c));
    }

    public void setIrqLine(int irq, boolean high) {
        Memory m = new Memory(Ioctls.IRQ_LEVEL_SIZE);
        m.setInt(0, irq);
        m.setInt(4, high ? 1 : 0);
        KvmException.check("KVM_IRQ_LINE", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_IRQ_LINE, m));
    }

    /** Signalling {@code eventFd} raises {@code gsi} in the in-kernel irqchip without a vCPU exit. */
    public void registerIrqfd(EventFd eventFd, int gsi) {
        irqfd(eventFd, gsi, 0);
    }

    public void unregisterIrqfd(EventFd eventFd, int gsi) {
        irqfd(eventFd, gsi, IRQFD_FLAG_DEASSIGN);
    }

    private void irqfd(EventFd eventFd, int gsi, int flags) {
        Memory m = new Memory(Ioctls.IRQFD_SIZE);
        m.clear();
        m.setInt(0, eventFd.fd());
        m.setInt(4, gsi);
        m.setInt(8, flags);
        KvmException.check("KVM_IRQFD", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_IRQFD, m));
    }

    /** A guest write of {@code length} bytes at MMIO {@code address} signals {@code eventFd} instead of exiting. */
    public void registerIoeventfd(EventFd eventFd, long address, int length, Long dataMatch) {
        ioeventfd(eventFd, address, length, dataMatch, 0);
    }

    public void unregisterIoeventfd(EventFd eventFd, long address, int length, Long dataMatch) {
        ioeventfd(eventFd, address, length, dataMatch, IOEVENTFD_FLAG_DEASSIGN);
    }

    private void ioeventfd(EventFd eventFd, long address, int length, Long dataMatch, int extraFlags) {
        Memory m = new Memory(Ioctls.IOEVENTFD_SIZE);
        m.clear();
        int flags = extraFlags | (dataMatch != null ? IOEVENTFD_FLAG_DATAMATCH : 0);
        m.setLong(0, dataMatch != null ? dataMatch : 0);
        m.setLong(8, address);
        m.setInt(16, length);
        m.setInt(20, eventFd.fd());
        m.setInt(24, flags);
        KvmException.check("KVM_IOEVENTFD", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_IOEVENTFD, m));
    }

    public byte[] getIrqchip(int chipId) {
        Memory m = new Memory(Ioctls.IRQCHIP_SIZE);
        m.clear();
        m.setInt(0, chipId);
        KvmException.check("KVM_GET_IRQCHIP", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_GET_IRQCHIP, m));
        return m.getByteArray(0, Ioctls.IRQCHIP_SIZE);
    }

    /** {@code state} is a whole {@code struct kvm_irqchip} as returned by {@link #getIrqchip}. */
    public void setIrqchip(byte[] state) {
        KvmException.check("KVM_SET_IRQCHIP", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_SET_IRQCHIP, blob(state, Ioctls.IRQCHIP_SIZE)));
    }

    public byte[] getPit2() {
        return getBlob("KVM_GET_PIT2", Ioctls.KVM_GET_PIT2, Ioctls.PIT_STATE2_SIZE);
    }

    public void setPit2(byte[] state) {
        KvmException.check("KVM_SET_PIT2", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_SET_PIT2, blob(state, Ioctls.PIT_STATE2_SIZE)));
    }

    public byte[] getClock() {
        return getBlob("KVM_GET_CLOCK", Ioctls.KVM_GET_CLOCK, Ioctls.CLOCK_DATA_SIZE);
    }

    /** Only the clock value is applied; the flags the kernel reported on GET are cleared as SET requires. */
    public void setClock(byte[] state) {
        Memory m = blob(state, Ioctls.CLOCK_DATA_SIZE);
        m.setInt(8, 0);
        KvmException.check("KVM_SET_CLOCK", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_SET_CLOCK, m));
    }

    public VcpuFd createVcpu(int id) {
        int vcpu = KvmException.check("KVM_CREATE_VCPU", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_CREATE_VCPU, (long) id));
        return new VcpuFd(vcpu, id, vcpuMmapSize);
    }

    private byte[] getBlob(String op, long request, int size) {
        Memory m = new Memory(size);
        m.clear();
        KvmException.check(op, LibC.INSTANCE.ioctl(fd, request, m));
        return m.getByteArray(0, size);
    }

    static Memory blob(byte[] state, int size) {
        if (state.length != size) {
            throw new IllegalArgumentException("state is " + state.length + " bytes, expected " + size);
        }
        Memory m = new Memory(size);
        m.write(0, state, 0, size);
        return m;
    }

    @Override
    public void close() {
        LibC.INSTANCE.close(fd);
    }
}
