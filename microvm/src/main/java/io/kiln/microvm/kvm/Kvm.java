package io.kiln.microvm.kvm;

import com.sun.jna.Memory;
import java.util.ArrayList;
import java.util.List;

/** The {@code /dev/kvm} system file descriptor: capabilities, supported CPUID/MSRs, VM creation. */
public final class Kvm implements AutoCloseable {
    public static final String DEVICE = "/dev/kvm";
    private static final int EXPECTED_API_VERSION = 12;
    private static final int MAX_CPUID_ENTRIES = 256;
    private static final int MAX_MSR_INDICES = 1024;

    private final int fd;

    private Kvm(int fd) {
        this.fd = fd;
    }

    public static Kvm open() {
        int fd = KvmException.check("open " + DEVICE, LibC.INSTANCE.open(DEVICE, LibC.O_RDWR | LibC.O_CLOEXEC));
        Kvm kvm = new Kvm(fd);
        int version = kvm.apiVersion();
        if (version != EXPECTED_API_VERSION) {
            kvm.close();
            throw new KvmException("KVM API version " + version + ", expected " + EXPECTED_API_VERSION);
        }
        return kvm;
    }

    public int apiVersion() {
        return KvmException.check("KVM_GET_API_VERSION", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_GET_API_VERSION, 0L));
    }

    /** Returns the capability's value; 0 means unsupported. */
    public int checkExtension(int capability) {
        int rc = LibC.INSTANCE.ioctl(fd, Ioctls.KVM_CHECK_EXTENSION, (long) capability);
        return Math.max(rc, 0);
    }

    public int vcpuMmapSize() {
        return KvmException.check("KVM_GET_VCPU_MMAP_SIZE", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_GET_VCPU_MMAP_SIZE, 0L));
    }

    public List<CpuidEntry> supportedCpuid() {
        Memory buf = new Memory(8 + (long) MAX_CPUID_ENTRIES * Ioctls.CPUID_ENTRY2_SIZE);
        buf.clear();
        buf.setInt(0, MAX_CPUID_ENTRIES);
        KvmException.check("KVM_GET_SUPPORTED_CPUID", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_GET_SUPPORTED_CPUID, buf));
        return CpuidEntry.decodeList(buf);
    }

    public List<Integer> msrIndexList() {
        Memory buf = new Memory(4 + 4L * MAX_MSR_INDICES);
        buf.setInt(0, MAX_MSR_INDICES);
        KvmException.check("KVM_GET_MSR_INDEX_LIST", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_GET_MSR_INDEX_LIST, buf));
        int n = buf.getInt(0);
        List<Integer> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(buf.getInt(4 + 4L * i));
        }
        return out;
    }

    public VmFd createVm() {
        int vm = KvmException.check("KVM_CREATE_VM", LibC.INSTANCE.ioctl(fd, Ioctls.KVM_CREATE_VM, 0L));
        return new VmFd(vm, vcpuMmapSize());
    }

    @Override
    public void close() {
        LibC.INSTANCE.close(fd);
    }
}
