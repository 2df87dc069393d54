package io.kiln.microvm.kvm;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The few libc calls the engine needs. Errors are read with {@link Native#getLastError()} right
 * after the call (JNA saves errno per call), so callers check the return value first.
 */
public interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int O_RDONLY = 0;
    int O_RDWR = 2;
    int O_CLOEXEC = 0x80000;
    int PROT_READ = 1;
    int PROT_WRITE = 2;
    int MAP_SHARED = 1;
    int MAP_PRIVATE = 2;
    int MAP_ANONYMOUS = 0x20;
    int MAP_NORESERVE = 0x4000;
    int EFD_CLOEXEC = 0x80000;
    int EFD_NONBLOCK = 0x800;
    int EINTR = 4;
    int EAGAIN = 11;
    int EINVAL = 22;
    int EACCES = 13;
    int ENOENT = 2;
    int EPERM = 1;
    int POLLIN = 1;

    int open(String path, int flags);

    int close(int fd);

    int ioctl(int fd, long request, Pointer arg);

    int ioctl(int fd, long request, long arg);

    Pointer mmap(Pointer addr, long length, int prot, int flags, int fd, long offset);

    int munmap(Pointer addr, long length);

    int eventfd(int initval, int flags);

    long read(int fd, Pointer buf, long count);

    long write(int fd, Pointer buf, long count);

    /** struct pollfd array: int fd; short events; short revents (8 bytes each). */
    int poll(Pointer fds, long nfds, int timeoutMillis);

    long pthread_self();

    int pthread_kill(long thread, int sig);

    int sigaction(int sig, Pointer act, Pointer oldact);

    int __libc_current_sigrtmin();

    String strerror(int errnum);
}
