package io.kiln.microvm.kvm;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * Forces a vCPU thread out of KVM_RUN. A guest halted in the in-kernel irqchip never exits on its
 * own, so pause/destroy set {@code immediate_exit} and send a real-time signal to the thread (the
 * Firecracker approach): the signal makes KVM_RUN return EINTR, and immediate_exit covers the
 * window where the signal lands just before the ioctl.
 *
 * <p>The handler must exist (the default action of a real-time signal kills the process) but must
 * not run Java: we point it at libc's {@code getpid}, which ignores its argument and is
 * async-signal-safe, so the handler is a native no-op.
 */
public final class VcpuKicker {
    private static final int SIGACTION_SIZE = 152; // glibc x86-64: handler, sigset_t(128), flags, restorer
    private static final int SIGNAL = initSignal();

    private VcpuKicker() {
    }

    private static int initSignal() {
        int sig = LibC.INSTANCE.__libc_current_sigrtmin() + 2;
        Memory act = new Memory(SIGACTION_SIZE);
        act.clear();
        Pointer noop = Function.getFunction("c", "getpid");
        act.setPointer(0, noop);
        // sa_flags = 0: no SA_RESTART, so the blocking ioctl returns EINTR instead of restarting.
        KvmException.check("sigaction", LibC.INSTANCE.sigaction(sig, act, null));
        return sig;
    }

    /** The calling thread's pthread id, to be passed to {@link #kick} later. */
    public static long currentThread() {
        return LibC.INSTANCE.pthread_self();
    }

    public static void kick(long pthread) {
        LibC.INSTANCE.pthread_kill(pthread, SIGNAL);
    }
}
