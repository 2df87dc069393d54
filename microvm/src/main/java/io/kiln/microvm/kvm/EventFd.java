package io.kiln.microvm.kvm;

import com.sun.jna.Memory;

/**
 * A Linux eventfd: the doorbell behind irqfd, ioeventfd and the device threads' wake-ups.
 *
 * <p>Once closed it ignores signals and drains nothing: a host thread may still ring a VM's
 * doorbell while the VM is torn down, and after close(2) the fd number can belong to anything
 * else in this JVM (another VM's eventfd, a snapshot file, a socket), which must never get
 * those 8 bytes. Signal and close exclude each other for that reason.
 */
public final class EventFd implements AutoCloseable {
    private final int fd;
    private volatile boolean closed;
    private final ThreadLocal<Memory> scratch = ThreadLocal.withInitial(() -> new Memory(8));

    public EventFd(boolean nonBlocking) {
        int flags = LibC.EFD_CLOEXEC | (nonBlocking ? LibC.EFD_NONBLOCK : 0);
        this.fd = KvmException.check("eventfd", LibC.INSTANCE.eventfd(0, flags));
    }

    public int fd() {
        return fd;
    }

    public void signal() {
        Memory m = scratch.get();
        m.setLong(0, 1);
        synchronized (this) {
            if (closed) {
                return;
            }
            if (LibC.INSTANCE.write(fd, m, 8) != 8) {
                throw new KvmException("eventfd write", com.sun.jna.Native.getLastError());
            }
        }
    }

    /** Returns and clears the counter; 0 if nothing was signalled (non-blocking mode). */
    public long drain() {
        if (closed) {
            return 0;
        }
        Memory m = scratch.get();
        long n = LibC.INSTANCE.read(fd, m, 8);
        if (n != 8) {
            int errno = com.sun.jna.Native.getLastError();
            if (errno == LibC.EAGAIN) {
                return 0;
            }
            throw new KvmException("eventfd read", errno);
        }
        return m.getLong(0);
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            LibC.INSTANCE.close(fd);
        }
    }
}
