package io.kiln.microvm.seccomp;

import static io.kiln.microvm.seccomp.Syscall.*;

import java.util.List;

/**
 * The seccomp allowlist of a VMM host process: a JVM (already started) that runs
 * {@code KvmMicroVm}s and serves them on a Unix socket. Found by {@code strace -f -c} of the real
 * host process booting, snapshotting, restoring and destroying guests (docs/ARCHITECTURE.md,
 * "The VMM host process"), plus what the JVM does on rarer paths (GC growing or shrinking the
 * heap, the JIT, a thread dump, a fatal error report).
 *
 * <p>Unlisted syscalls fail with EPERM rather than killing the process: the JVM then throws in
 * the one thread that tried (and the host process reports it), instead of every VM of the
 * function dying on a rare JVM path nobody traced. Denied either way, the call does nothing.
 */
public final class VmmSyscalls {
    private static final int EPERM = 1;
    private static final int ENOSYS = 38;
    private static final int CLONE_THREAD = 0x10000;
    private static final int AF_UNIX = 1;
    private static final int PR_SET_NAME = 15;
    private static final int PR_GET_NAME = 16;
    private static final int PR_SET_VMA = 0x53564d41;

    private VmmSyscalls() {
    }

    /** The filter for this process; {@code tgkill} is allowed only towards its own threads. */
    public static SeccompFilter filter() {
        return filter((int) ProcessHandle.current().pid());
    }

    static SeccompFilter filter(int ownPid) {
        SeccompFilter f = new SeccompFilter(SeccompFilter.errno(EPERM))
                // Hot: vCPU loops (KVM_RUN), the device thread's poll, the socket pumps, locks.
                // (Ordered by the counts strace -c gave: futex, read, gettid, ioctl, write, newfstatat, sysinfo.)
                .allow(IOCTL, FUTEX, READ, GETTID, WRITE, NEWFSTATAT, SYSINFO, PPOLL, POLL, EPOLL_WAIT, EPOLL_PWAIT,
                        RECVFROM, SENDTO, SCHED_YIELD, CLOCK_GETTIME, NANOSLEEP, CLOCK_NANOSLEEP, RT_SIGRETURN,
                        RESTART_SYSCALL)
                // Memory: guest RAM, the Java heap, JIT code, thread stacks.
                .allow(MMAP, MUNMAP, MPROTECT, MADVISE, MREMAP, BRK, MSYNC, MINCORE, MEMBARRIER)
                // Files: the guest image, snapshots, /proc and /sys reads by the JVM.
                .allow(OPENAT, OPEN, CLOSE, FSTAT, STAT, LSTAT, STATX, LSEEK, PREAD64, PWRITE64, READV, WRITEV,
                        PREADV, PWRITEV, FTRUNCATE, FALLOCATE, FSYNC, FDATASYNC, FADVISE64, FCNTL, FLOCK, GETDENTS64,
                        ACCESS, FACCESSAT, FACCESSAT2, READLINK, READLINKAT, MKDIR, MKDIRAT, UNLINK, UNLINKAT, RENAME,
                        RENAMEAT, RENAMEAT2, RMDIR, FCHMOD, STATFS, FSTATFS, GETCWD, DUP, DUP2, DUP3, PIPE, PIPE2,
                        SENDFILE, COPY_FILE_RANGE, CLOSE_RANGE, UMASK)
                // KVM's irqfd/ioeventfd eventfds, the JDK's epoll selector.
                .allow(EVENTFD2, EPOLL_CREATE1, EPOLL_CTL)
                // The Unix sockets to the control plane (socket() itself is AF_UNIX only, below).
                .allow(BIND, LISTEN, ACCEPT, ACCEPT4, CONNECT, SHUTDOWN, SENDMSG, RECVMSG, GETSOCKNAME, GETPEERNAME,
                        SETSOCKOPT, GETSOCKOPT)
                // Threads and signals (the vCPU kick is a signal to a vCPU thread).
                .allow(SET_ROBUST_LIST, GET_ROBUST_LIST, SET_TID_ADDRESS, RSEQ, RT_SIGACTION, RT_SIGPROCMASK,
                        RT_SIGTIMEDWAIT, SIGALTSTACK, SCHED_GETAFFINITY, SCHED_GETPARAM, SCHED_GETSCHEDULER,
                        SCHED_GET_PRIORITY_MAX, SCHED_GET_PRIORITY_MIN, EXIT, EXIT_GROUP)
                // Identity and limits, read only.
                .allow(GETPID, GETPPID, GETUID, GETEUID, GETGID, GETEGID, UNAME, GETRLIMIT, PRLIMIT64,
                        GETRUSAGE, TIMES, GETTIMEOFDAY, CLOCK_GETRES, GETRANDOM, ARCH_PRCTL)
                .allowIf(CLONE, new SeccompFilter.Condition.BitSet(0, CLONE_THREAD))
                .allowIf(SOCKET, new SeccompFilter.Condition.OneOf(0, List.of(AF_UNIX)))
                .allowIf(SOCKETPAIR, new SeccompFilter.Condition.OneOf(0, List.of(AF_UNIX)))
                .allowIf(TGKILL, new SeccompFilter.Condition.OneOf(0, List.of(ownPid)))
                .allowIf(PRCTL, new SeccompFilter.Condition.OneOf(0, List.of(PR_SET_NAME, PR_GET_NAME, PR_SET_VMA)));
        // glibc tries clone3 first and falls back to clone only on ENOSYS; EPERM would fail every
        // new thread. clone3's flags sit in a struct the filter cannot read, hence clone.
        f.fail(CLONE3, ENOSYS);
        return f;
    }

    /** Syscalls that must never be allowed, whatever the list grows into (the tests check it). */
    public static final List<Syscall> NEVER = List.of(EXECVE, EXECVEAT, FORK, VFORK, PTRACE, MOUNT, UMOUNT2,
            PIVOT_ROOT, CHROOT, SETUID, SETGID, SETREUID, SETREGID, SETRESUID, SETRESGID, SETFSUID, SETFSGID,
            SETGROUPS, CAPSET, UNSHARE, SETNS, BPF, PERF_EVENT_OPEN, KEYCTL, ADD_KEY, REQUEST_KEY, INIT_MODULE,
            FINIT_MODULE, DELETE_MODULE, KEXEC_LOAD, KEXEC_FILE_LOAD, PROCESS_VM_READV, PROCESS_VM_WRITEV,
            IO_URING_SETUP, IO_URING_ENTER, IO_URING_REGISTER, USERFAULTFD, KILL, PERSONALITY, REBOOT, SYSLOG,
            OPEN_TREE, MOVE_MOUNT, FSOPEN, FSCONFIG, FSMOUNT, FSPICK, MOUNT_SETATTR, PIDFD_OPEN, PIDFD_GETFD,
            NAME_TO_HANDLE_AT, OPEN_BY_HANDLE_AT, MKNOD, MKNODAT);
}
