package io.kiln.microvm.kvm;

/**
 * KVM ioctl request numbers, computed the way {@code <linux/kvm.h>} does with _IO/_IOR/_IOW/_IOWR
 * from the struct sizes below (x86-64 layout). {@code IoctlsTest} checks them against the C header.
 */
public final class Ioctls {
    private Ioctls() {
    }

    private static final int KVMIO = 0xAE;
    private static final long NONE = 0;
    private static final long WRITE = 1;
    private static final long READ = 2;

    static long ioc(long dir, int nr, int size) {
        return (dir << 30) | ((long) size << 16) | ((long) KVMIO << 8) | nr;
    }

    static long io(int nr) {
        return ioc(NONE, nr, 0);
    }

    static long ior(int nr, int size) {
        return ioc(READ, nr, size);
    }

    static long iow(int nr, int size) {
        return ioc(WRITE, nr, size);
    }

    static long iowr(int nr, int size) {
        return ioc(READ | WRITE, nr, size);
    }

    // Struct sizes (bytes) on x86-64.
    public static final int REGS_SIZE = 144;
    public static final int SREGS_SIZE = 312;
    public static final int FPU_SIZE = 416;
    public static final int XSAVE_SIZE = 4096;
    public static final int XCRS_SIZE = 392;
    public static final int LAPIC_SIZE = 1024;
    public static final int VCPU_EVENTS_SIZE = 64;
    public static final int DEBUGREGS_SIZE = 128;
    public static final int MP_STATE_SIZE = 4;
    public static final int IRQCHIP_SIZE = 520;
    public static final int PIT_STATE2_SIZE = 112;
    public static final int CLOCK_DATA_SIZE = 48;
    public static final int MEMORY_REGION_SIZE = 32;
    public static final int IRQFD_SIZE = 32;
    public static final int IOEVENTFD_SIZE = 64;
    public static final int PIT_CONFIG_SIZE = 64;
    public static final int IRQ_LEVEL_SIZE = 8;
    public static final int CPUID_ENTRY2_SIZE = 40;

    public static final long KVM_GET_API_VERSION = io(0x00);
    public static final long KVM_CREATE_VM = io(0x01);
    public static final long KVM_GET_MSR_INDEX_LIST = iowr(0x02, 4);
    public static final long KVM_CHECK_EXTENSION = io(0x03);
    public static final long KVM_GET_VCPU_MMAP_SIZE = io(0x04);
    public static final long KVM_GET_SUPPORTED_CPUID = iowr(0x05, 8);

    public static final long KVM_CREATE_VCPU = io(0x41);
    public static final long KVM_SET_USER_MEMORY_REGION = iow(0x46, MEMORY_REGION_SIZE);
    public static final long KVM_SET_TSS_ADDR = io(0x47);
    public static final long KVM_SET_IDENTITY_MAP_ADDR = iow(0x48, 8);
    public static final long KVM_CREATE_IRQCHIP = io(0x60);
    public static final long KVM_IRQ_LINE = iow(0x61, IRQ_LEVEL_SIZE);
    public static final long KVM_GET_IRQCHIP = iowr(0x62, IRQCHIP_SIZE);
    /** Declared with _IOR in the kernel header even though it writes; kept as the kernel has it. */
    public static final long KVM_SET_IRQCHIP = ior(0x63, IRQCHIP_SIZE);
    public static final long KVM_IRQFD = iow(0x76, IRQFD_SIZE);
    public static final long KVM_CREATE_PIT2 = iow(0x77, PIT_CONFIG_SIZE);
    public static final long KVM_IOEVENTFD = iow(0x79, IOEVENTFD_SIZE);
    public static final long KVM_SET_CLOCK = iow(0x7b, CLOCK_DATA_SIZE);
    public static final long KVM_GET_CLOCK = ior(0x7c, CLOCK_DATA_SIZE);
    public static final long KVM_GET_PIT2 = ior(0x9f, PIT_STATE2_SIZE);
    public static final long KVM_SET_PIT2 = iow(0xa0, PIT_STATE2_SIZE);

    public static final long KVM_RUN = io(0x80);
    public static final long KVM_GET_REGS = ior(0x81, REGS_SIZE);
    public static final long KVM_SET_REGS = iow(0x82, REGS_SIZE);
    public static final long KVM_GET_SREGS = ior(0x83, SREGS_SIZE);
    public static final long KVM_SET_SREGS = iow(0x84, SREGS_SIZE);
    public static final long KVM_GET_MSRS = iowr(0x88, 8);
    public static final long KVM_SET_MSRS = iow(0x89, 8);
    public static final long KVM_GET_FPU = ior(0x8c, FPU_SIZE);
    public static final long KVM_SET_FPU = iow(0x8d, FPU_SIZE);
    public static final long KVM_GET_LAPIC = ior(0x8e, LAPIC_SIZE);
    public static final long KVM_SET_LAPIC = iow(0x8f, LAPIC_SIZE);
    public static final long KVM_SET_CPUID2 = iow(0x90, 8);
    public static final long KVM_GET_CPUID2 = iowr(0x91, 8);
    public static final long KVM_GET_MP_STATE = ior(0x98, MP_STATE_SIZE);
    public static final long KVM_SET_MP_STATE = iow(0x99, MP_STATE_SIZE);
    public static final long KVM_GET_VCPU_EVENTS = ior(0x9f, VCPU_EVENTS_SIZE);
    public static final long KVM_SET_VCPU_EVENTS = iow(0xa0, VCPU_EVENTS_SIZE);
    public static final long KVM_GET_DEBUGREGS = ior(0xa1, DEBUGREGS_SIZE);
    public static final long KVM_SET_DEBUGREGS = iow(0xa2, DEBUGREGS_SIZE);
    public static final long KVM_GET_XSAVE = ior(0xa4, XSAVE_SIZE);
    public static final long KVM_SET_XSAVE = iow(0xa5, XSAVE_SIZE);
    public static final long KVM_GET_XCRS = ior(0xa6, XCRS_SIZE);
    public static final long KVM_SET_XCRS = iow(0xa7, XCRS_SIZE);
    /** The argument is the frequency in kHz itself, not a pointer. */
    public static final long KVM_SET_TSC_KHZ = io(0xa2);
    /** Returns the vCPU's TSC frequency in kHz as the ioctl's result. */
    public static final long KVM_GET_TSC_KHZ = io(0xa3);
    public static final long KVM_KVMCLOCK_CTRL = io(0xad);

    // Capabilities (KVM_CHECK_EXTENSION).
    public static final int CAP_IRQCHIP = 0;
    public static final int CAP_USER_MEMORY = 3;
    public static final int CAP_SET_TSS_ADDR = 4;
    public static final int CAP_EXT_CPUID = 7;
    public static final int CAP_NR_VCPUS = 9;
    public static final int CAP_PIT2 = 33;
    public static final int CAP_IOEVENTFD = 36;
    public static final int CAP_ADJUST_CLOCK = 39;
    public static final int CAP_VCPU_EVENTS = 41;
    public static final int CAP_XSAVE = 55;
    public static final int CAP_XCRS = 56;
    public static final int CAP_IRQFD = 32;
    public static final int CAP_TSC_CONTROL = 60;
    public static final int CAP_GET_TSC_KHZ = 61;
    public static final int CAP_TSC_DEADLINE_TIMER = 72;
    public static final int CAP_KVMCLOCK_CTRL = 76;
    public static final int CAP_DEBUGREGS = 50;
    public static final int CAP_MAX_VCPUS = 66;
    public static final int CAP_IMMEDIATE_EXIT = 136;
}
