package io.kiln.microvm.seccomp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Classic BPF, only the instructions a seccomp filter needs: load a 32-bit word of
 * {@code struct seccomp_data}, compare it, return an action. One instruction is
 * {@code struct sock_filter {u16 code; u8 jt; u8 jf; u32 k;}}, 8 bytes in host (little-endian) order.
 */
public final class Bpf {
    static final int LD_W_ABS = 0x00 | 0x00 | 0x20;
    static final int JMP_JEQ_K = 0x05 | 0x10;
    static final int JMP_JGE_K = 0x05 | 0x30;
    static final int JMP_JSET_K = 0x05 | 0x40;
    static final int RET_K = 0x06;
    /** The kernel refuses longer programs (BPF_MAXINSNS). */
    static final int MAX_INSNS = 4096;

    private Bpf() {
    }

    /** One instruction; {@code jt}/{@code jf} are forward skips of 0..255 instructions. */
    public record Insn(int code, int jt, int jf, int k) {
        public Insn {
            if (jt < 0 || jt > 255 || jf < 0 || jf > 255) {
                throw new IllegalArgumentException("a BPF jump skips 0..255 instructions, not " + jt + "/" + jf);
            }
        }
    }

    static Insn load(int offset) {
        return new Insn(LD_W_ABS, 0, 0, offset);
    }

    static Insn jeq(int k, int jt, int jf) {
        return new Insn(JMP_JEQ_K, jt, jf, k);
    }

    static Insn jge(int k, int jt, int jf) {
        return new Insn(JMP_JGE_K, jt, jf, k);
    }

    static Insn jset(int k, int jt, int jf) {
        return new Insn(JMP_JSET_K, jt, jf, k);
    }

    static Insn ret(int action) {
        return new Insn(RET_K, 0, 0, action);
    }

    /** The program as the kernel reads it. */
    public static byte[] encode(List<Insn> program) {
        if (program.isEmpty() || program.size() > MAX_INSNS) {
            throw new IllegalArgumentException("a BPF program has 1.." + MAX_INSNS + " instructions, not " + program.size());
        }
        ByteBuffer b = ByteBuffer.allocate(program.size() * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (Insn i : program) {
            b.putShort((short) i.code()).put((byte) i.jt()).put((byte) i.jf()).putInt(i.k());
        }
        return b.array();
    }
}
