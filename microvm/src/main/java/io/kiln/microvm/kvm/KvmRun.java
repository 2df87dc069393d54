package io.kiln.microvm.kvm;

import com.sun.jna.Pointer;

/** A view of the vCPU's mmap'd {@code struct kvm_run}: why KVM_RUN returned and the I/O to complete. */
public final class KvmRun {
    public static final int EXIT_UNKNOWN = 0;
    public static final int EXIT_EXCEPTION = 1;
    public static final int EXIT_IO = 2;
    public static final int EXIT_HLT = 5;
    public static final int EXIT_MMIO = 6;
    public static final int EXIT_SHUTDOWN = 8;
    public static final int EXIT_FAIL_ENTRY = 9;
    public static final int EXIT_INTR = 10;
    public static final int EXIT_INTERNAL_ERROR = 17;
    public static final int EXIT_SYSTEM_EVENT = 24;
    public static final int IO_IN = 0;
    public static final int IO_OUT = 1;

    private final Pointer p;

    KvmRun(Pointer p) {
        this.p = p;
    }

    public void setImmediateExit(boolean value) {
        p.setByte(1, (byte) (value ? 1 : 0));
    }

    public int exitReason() {
        return p.getInt(8);
    }

    public int ioDirection() {
        return p.getByte(32) & 0xff;
    }

    public int ioSize() {
        return p.getByte(33) & 0xff;
    }

    public int ioPort() {
        return p.getShort(34) & 0xffff;
    }

    public int ioCount() {
        return p.getInt(36);
    }

    /** The I/O data lives inside the run page at this offset; ioSize*ioCount bytes. */
    public byte[] ioData() {
        return p.getByteArray(p.getLong(40), ioSize() * ioCount());
    }

    public void setIoData(byte[] data) {
        p.write(p.getLong(40), data, 0, Math.min(data.length, ioSize() * ioCount()));
    }

    public long mmioAddress() {
        return p.getLong(32);
    }

    public int mmioLength() {
        return Math.min(p.getInt(48), 8);
    }

    public boolean mmioIsWrite() {
        return p.getByte(52) != 0;
    }

    public byte[] mmioData() {
        return p.getByteArray(40, mmioLength());
    }

    public void setMmioData(byte[] data) {
        p.write(40, data, 0, Math.min(data.length, 8));
    }

    public long failEntryReason() {
        return p.getLong(32);
    }

    public int internalSuberror() {
        return p.getInt(32);
    }

    public int systemEventType() {
        return p.getInt(32);
    }
}
