package io.kiln.microvm.qemu;

import java.nio.file.Path;

/** How a QEMU guest's RAM is backed; this decides what can be snapshotted and shared. */
public sealed interface GuestRam {

    /** Anonymous memory: the fastest to boot, but the guest cannot be snapshotted. */
    record Anonymous() implements GuestRam {
    }

    /**
     * A file mapped shared: the file is the guest's RAM, so a snapshot needs to write only
     * device state, and the file becomes the snapshot's memory.
     */
    record SharedFile(Path file) implements GuestRam {
    }

    /**
     * A snapshot's memory file mapped private: restoring reads nothing up front, clones share
     * the untouched pages through the page cache, and each clone's writes stay its own.
     */
    record PrivateFile(Path file) implements GuestRam {
    }
}
