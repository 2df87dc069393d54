package io.kiln.microvm.kvm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** {@code struct kvm_regs}: the general-purpose registers, rip and rflags (144 bytes). */
public record Regs(long rax, long rbx, long rcx, long rdx, long rsi, long rdi, long rsp, long rbp,
                   long r8, long r9, long r10, long r11, long r12, long r13, long r14, long r15,
                   long rip, long rflags) {

    /** The x86 reset value of rflags: only the always-one bit 1 set. */
    public static final long RFLAGS_RESERVED = 0x2;

    public static Regs entry(long rip, long rsp, long rsi) {
        return new Regs(0, 0, 0, 0, rsi, 0, rsp, rsp, 0, 0, 0, 0, 0, 0, 0, 0, rip, RFLAGS_RESERVED);
    }

    public static Regs decode(byte[] raw) {
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        long[] v = new long[18];
        for (int i = 0; i < 18; i++) {
            v[i] = b.getLong();
        }
        return new Regs(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12],
                v[13], v[14], v[15], v[16], v[17]);
    }

    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(Ioctls.REGS_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : new long[] {rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8, r9, r10, r11, r12, r13, r14, r15, rip, rflags}) {
            b.putLong(v);
        }
        return b.array();
    }
}
