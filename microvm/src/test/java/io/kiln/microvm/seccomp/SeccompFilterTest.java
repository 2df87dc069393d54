package io.kiln.microvm.seccomp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The VMM allowlist, run through a BPF interpreter for every syscall number: no kernel needed. */
class SeccompFilterTest {
    private static final int PID = 4242;
    private static final List<Bpf.Insn> PROGRAM = VmmSyscalls.filter(PID).program();
    private static final int X86_64 = SeccompFilter.AUDIT_ARCH_X86_64;
    private static final int EPERM = SeccompFilter.errno(1);

    private static int action(int nr, int... args) {
        return BpfInterpreter.run(PROGRAM, X86_64, nr, args);
    }

    @Test
    void anotherArchitectureOrTheX32AbiKillsTheProcess() {
        int i386 = 0x40000003;
        assertEquals(SeccompFilter.RET_KILL_PROCESS, BpfInterpreter.run(PROGRAM, i386, Syscall.READ.number()));
        assertEquals(SeccompFilter.RET_KILL_PROCESS, action(0x40000000 | Syscall.READ.number()));
    }

    @Test
    void everyListedSyscallIsAllowedAndNothingElse() {
        List<Syscall> allowed = VmmSyscalls.filter(PID).allowed();
        for (int nr = 0; nr < 512; nr++) {
            int a = action(nr, conditionMet(nr));
            boolean listed = isListed(allowed, nr);
            if (nr == Syscall.CLONE3.number()) {
                assertEquals(SeccompFilter.errno(38), a, "clone3 answers ENOSYS so glibc falls back to clone");
            } else if (listed) {
                assertEquals(SeccompFilter.RET_ALLOW, a, "syscall " + nr);
            } else {
                assertEquals(EPERM, a, "syscall " + nr);
            }
        }
    }

    private static boolean isListed(List<Syscall> allowed, int nr) {
        return allowed.stream().anyMatch(s -> s.number() == nr);
    }

    /** Arguments that satisfy the conditional rules (the tests below check the other side). */
    private static int[] conditionMet(int nr) {
        if (nr == Syscall.CLONE.number()) {
            return new int[]{0x3d0f00};
        }
        if (nr == Syscall.SOCKET.number() || nr == Syscall.SOCKETPAIR.number()) {
            return new int[]{1};
        }
        if (nr == Syscall.TGKILL.number()) {
            return new int[]{PID};
        }
        if (nr == Syscall.PRCTL.number()) {
            return new int[]{15};
        }
        return new int[0];
    }

    @Test
    void theForbiddenSyscallsAreDenied() {
        for (Syscall s : VmmSyscalls.NEVER) {
            assertEquals(EPERM, action(s.number(), 0x3d0f00 | 0x10000, 1, 1), s.toString());
            assertFalse(VmmSyscalls.filter(PID).allowed().contains(s), s.toString());
        }
    }

    @Test
    void cloneOnlyForThreads() {
        int clone = Syscall.CLONE.number();
        // glibc's pthread_create: CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID.
        assertEquals(SeccompFilter.RET_ALLOW, action(clone, 0x3d0f00));
        // fork (SIGCHLD only) and posix_spawn (CLONE_VM|CLONE_VFORK|SIGCHLD): new processes.
        assertEquals(EPERM, action(clone, 17));
        assertEquals(EPERM, action(clone, 0x4100 | 17));
    }

    @Test
    void socketsOnlyUnix() {
        assertEquals(SeccompFilter.RET_ALLOW, action(Syscall.SOCKET.number(), 1, 1, 0));
        assertEquals(EPERM, action(Syscall.SOCKET.number(), 2, 1, 0), "AF_INET");
        assertEquals(EPERM, action(Syscall.SOCKET.number(), 10, 1, 0), "AF_INET6");
        assertEquals(EPERM, action(Syscall.SOCKET.number(), 16, 3, 0), "AF_NETLINK");
        assertEquals(EPERM, action(Syscall.SOCKETPAIR.number(), 2, 1, 0));
    }

    @Test
    void signalsOnlyToOwnThreadsAndPrctlOnlyForNames() {
        assertEquals(SeccompFilter.RET_ALLOW, action(Syscall.TGKILL.number(), PID, 7, 10));
        assertEquals(EPERM, action(Syscall.TGKILL.number(), 1, 1, 9));
        assertEquals(SeccompFilter.RET_ALLOW, action(Syscall.PRCTL.number(), 16));
        assertEquals(EPERM, action(Syscall.PRCTL.number(), 4), "PR_SET_DUMPABLE");
        assertEquals(EPERM, action(Syscall.PRCTL.number(), 22), "PR_SET_SECCOMP");
    }

    @Test
    void encodingAndBounds() {
        byte[] code = Bpf.encode(List.of(Bpf.jeq(0x01020304, 1, 2)));
        assertEquals(List.of((byte) 0x15, (byte) 0, (byte) 1, (byte) 2, (byte) 4, (byte) 3, (byte) 2, (byte) 1),
                List.of(code[0], code[1], code[2], code[3], code[4], code[5], code[6], code[7]));
        assertThrows(IllegalArgumentException.class, () -> Bpf.jeq(1, 256, 0));
        assertThrows(IllegalArgumentException.class, () -> new SeccompFilter(EPERM).allow(Syscall.READ).allow(Syscall.READ));
        assertThrows(IllegalArgumentException.class, () -> new SeccompFilter.Condition.BitSet(0, 3));
        assertTrue(PROGRAM.size() < 4096, "program size " + PROGRAM.size());
    }
}
