package io.kiln.microvm.memory;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.kiln.microvm.kvm.KvmException;
import io.kiln.microvm.kvm.LibC;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * One contiguous range of guest RAM and the host mapping behind it: anonymous memory for a fresh
 * VM, or a file mapped MAP_PRIVATE for a restored one (the guest's writes go to private
 * copy-on-write pages, the file never changes).
 */
public final class MemoryRegion implements AutoCloseable {
    private final long guestBase;
    private final long size;
    private final Pointer host;
    private final Path backingFile;
    private volatile boolean closed;

    private MemoryRegion(long guestBase, long size, Pointer host, Path backingFile) {
        this.guestBase = guestBase;
        this.size = size;
        this.host = host;
        this.backingFile = backingFile;
    }

    /** MAP_NORESERVE: untouched guest pages cost nothing on the host. */
    public static MemoryRegion anonymous(long guestBase, long size) {
        Pointer p = LibC.INSTANCE.mmap(null, size, LibC.PROT_READ | LibC.PROT_WRITE,
                LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE, -1, 0);
        checkMapping(p, "mmap anonymous " + size);
        return new MemoryRegion(guestBase, size, p, null);
    }

    /** Maps {@code size} bytes of {@code file} from {@code fileOffset}, copy-on-write. */
    public static MemoryRegion privateFile(long guestBase, long size, Path file, long fileOffset) {
        int fd = LibC.INSTANCE.open(file.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
        if (fd < 0) {
            throw new KvmException("open " + file, Native.getLastError());
        }
        try {
            // PROT_WRITE on a read-only fd is allowed for MAP_PRIVATE: writes never reach the file.
            Pointer p = LibC.INSTANCE.mmap(null, size, LibC.PROT_READ | LibC.PROT_WRITE,
                    LibC.MAP_PRIVATE | LibC.MAP_NORESERVE, fd, fileOffset);
            checkMapping(p, "mmap " + file);
            return new MemoryRegion(guestBase, size, p, file);
        } finally {
            LibC.INSTANCE.close(fd);
        }
    }

    private static void checkMapping(Pointer p, String what) {
        if (p == null || Pointer.nativeValue(p) == -1L) {
            throw new KvmException(what, Native.getLastError());
        }
    }

    public long guestBase() {
        return guestBase;
    }

    public long size() {
        return size;
    }

    public long guestEnd() {
        return guestBase + size;
    }

    /** The host address, for KVM_SET_USER_MEMORY_REGION only. */
    public Pointer hostPointer() {
        return host;
    }

    public Path backingFile() {
        return backingFile;
    }

    boolean contains(long gpa, long len) {
        return gpa >= guestBase && len >= 0 && gpa - guestBase <= size - len;
    }

    Pointer at(long gpa) {
        return host.share(gpa - guestBase);
    }

    /** A direct buffer over part of this region (at most 2 GiB), for bulk file I/O. */
    ByteBuffer buffer(long offset, int length) {
        return host.getByteBuffer(offset, length);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            LibC.INSTANCE.munmap(host, size);
        }
    }
}
