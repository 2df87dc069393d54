package io.kiln.microvm.kvm;

/** A failed KVM or libc call: which operation and the errno it returned. */
public final class KvmException extends RuntimeException {
    private final int errno;

    public KvmException(String operation, int errno) {
        super(operation + " failed: errno " + errno + " (" + LibC.INSTANCE.strerror(errno) + ")");
        this.errno = errno;
    }

    public KvmException(String message) {
        super(message);
        this.errno = 0;
    }

    public int errno() {
        return errno;
    }

    static int check(String operation, int rc) {
        if (rc < 0) {
            throw new KvmException(operation, com.sun.jna.Native.getLastError());
        }
        return rc;
    }
}
