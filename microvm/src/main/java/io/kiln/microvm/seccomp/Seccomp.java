package io.kiln.microvm.seccomp;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

import java.lang.ref.Reference;
import java.util.List;

/**
 * Installs a seccomp filter on every thread of this process: {@code PR_SET_NO_NEW_PRIVS}
 * (required to install a filter without CAP_SYS_ADMIN, and it keeps any later exec from gaining
 * privileges), then {@code seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog)}.
 * TSYNC is what makes this work for a JVM: the GC, JIT and signal threads already exist when
 * {@code main} runs, and a filter set with prctl would cover only the calling thread.
 * A filter can never be removed; the kernel keeps it for the process's life.
 */
public final class Seccomp {
    private static final int PR_SET_NO_NEW_PRIVS = 38;
    private static final int SECCOMP_SET_MODE_FILTER = 1;
    private static final int SECCOMP_FILTER_FLAG_TSYNC = 1;

    private interface Native0 extends Library {
        Native0 INSTANCE = Native.load("c", Native0.class);

        int prctl(int option, long arg2, long arg3, long arg4, long arg5);

        long syscall(long number, long operation, long flags, Pointer args);

        String strerror(int errnum);
    }

    private Seccomp() {
    }

    /** Installs {@code filter} on all threads; throws if the kernel refuses it. */
    public static void install(SeccompFilter filter) {
        if (!"amd64".equals(System.getProperty("os.arch")) || !"Linux".equals(System.getProperty("os.name"))) {
            throw new IllegalStateException("the seccomp filters are for Linux x86_64, not "
                    + System.getProperty("os.name") + "/" + System.getProperty("os.arch"));
        }
        List<Bpf.Insn> program = filter.program();
        byte[] code = Bpf.encode(program);
        Memory insns = new Memory(code.length);
        insns.write(0, code, 0, code.length);
        // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: 2 bytes, padding, pointer.
        Memory prog = new Memory(16);
        prog.clear();
        prog.setShort(0, (short) program.size());
        prog.setPointer(8, insns);
        if (Native0.INSTANCE.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            throw new IllegalStateException("prctl(PR_SET_NO_NEW_PRIVS): " + lastError());
        }
        long r = Native0.INSTANCE.syscall(Syscall.SECCOMP.number(), SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, prog);
        if (r > 0) {
            throw new IllegalStateException("seccomp: thread " + r + " could not be synchronised to the filter");
        }
        if (r < 0) {
            throw new IllegalStateException("seccomp(SECCOMP_SET_MODE_FILTER): " + lastError());
        }
        // The kernel copied the program: the buffers may be freed from here on, not before.
        Reference.reachabilityFence(insns);
        Reference.reachabilityFence(prog);
    }

    private static String lastError() {
        int errno = Native.getLastError();
        return Native0.INSTANCE.strerror(errno) + " (errno " + errno + ")";
    }
}
