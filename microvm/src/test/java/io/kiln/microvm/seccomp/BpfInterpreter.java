package io.kiln.microvm.seccomp;

import java.util.List;

/** Runs a seccomp program on one {@code struct seccomp_data}, as the kernel would: for tests. */
final class BpfInterpreter {
    private BpfInterpreter() {
    }

    /** The action for a syscall; {@code args} are the low words of up to six arguments. */
    static int run(List<Bpf.Insn> program, int arch, int nr, int... args) {
        int acc = 0;
        int pc = 0;
        while (true) {
            Bpf.Insn i = program.get(pc);
            switch (i.code()) {
                case Bpf.LD_W_ABS -> {
                    acc = word(i.k(), arch, nr, args);
                    pc++;
                }
                case Bpf.JMP_JEQ_K -> pc += 1 + (acc == i.k() ? i.jt() : i.jf());
                case Bpf.JMP_JGE_K -> pc += 1 + (Integer.compareUnsigned(acc, i.k()) >= 0 ? i.jt() : i.jf());
                case Bpf.JMP_JSET_K -> pc += 1 + ((acc & i.k()) != 0 ? i.jt() : i.jf());
                case Bpf.RET_K -> {
                    return i.k();
                }
                default -> throw new IllegalStateException("unknown opcode " + i.code());
            }
        }
    }

    private static int word(int offset, int arch, int nr, int[] args) {
        if (offset == 0) {
            return nr;
        }
        if (offset == 4) {
            return arch;
        }
        if (offset >= 16 && offset < 64 && (offset - 16) % 8 == 0) {
            int a = (offset - 16) / 8;
            return a < args.length ? args[a] : 0;
        }
        throw new IllegalStateException("the filter loads an unexpected offset " + offset);
    }
}
