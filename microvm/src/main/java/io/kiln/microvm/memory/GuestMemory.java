package io.kiln.microvm.memory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Guest RAM: a sorted set of non-overlapping regions. Every access names a guest-physical address
 * and length and is checked against the regions first; anything that falls outside RAM, spans a
 * hole or overflows throws {@link GuestMemoryException} before a single host byte is touched.
 */
public final class GuestMemory implements AutoCloseable {
    private final List<MemoryRegion> regions;

    public GuestMemory(List<MemoryRegion> regions) {
        List<MemoryRegion> sorted = new ArrayList<>(regions);
        sorted.sort((a, b) -> Long.compareUnsigned(a.guestBase(), b.guestBase()));
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).guestBase() < sorted.get(i - 1).guestEnd()) {
                throw new IllegalArgumentException("overlapping guest memory regions");
            }
        }
        this.regions = List.copyOf(sorted);
    }

    /** Anonymous RAM laid out by {@link MemoryLayout}. */
    public static GuestMemory anonymous(long sizeBytes) {
        List<MemoryRegion> rs = new ArrayList<>();
        for (long[] r : MemoryLayout.ramRanges(sizeBytes)) {
            rs.add(MemoryRegion.anonymous(r[0], r[1]));
        }
        return new GuestMemory(rs);
    }

    /** RAM mapped MAP_PRIVATE from a memory file written by {@link #saveTo}: regions back to back. */
    public static GuestMemory privateFile(long sizeBytes, Path file) {
        List<MemoryRegion> rs = new ArrayList<>();
        long offset = 0;
        for (long[] r : MemoryLayout.ramRanges(sizeBytes)) {
            rs.add(MemoryRegion.privateFile(r[0], r[1], file, offset));
            offset += r[1];
        }
        return new GuestMemory(rs);
    }

    public List<MemoryRegion> regions() {
        return regions;
    }

    public long totalSize() {
        long t = 0;
        for (MemoryRegion r : regions) {
            t += r.size();
        }
        return t;
    }

    /** True if [gpa, gpa+len) lies entirely inside one RAM region. */
    public boolean isValid(long gpa, long len) {
        return find(gpa, len) != null;
    }

    private MemoryRegion find(long gpa, long len) {
        if (len < 0 || gpa < 0 || gpa + len < gpa) {
            return null;
        }
        for (MemoryRegion r : regions) {
            if (r.contains(gpa, len)) {
                return r;
            }
        }
        return null;
    }

    private MemoryRegion check(long gpa, long len) {
        MemoryRegion r = find(gpa, len);
        if (r == null) {
            throw new GuestMemoryException(String.format("guest range [0x%x, +0x%x) is outside guest RAM", gpa, len));
        }
        return r;
    }

    public void read(long gpa, byte[] dst, int off, int len) {
        check(gpa, len).at(gpa).read(0, dst, off, len);
    }

    public byte[] read(long gpa, int len) {
        byte[] b = new byte[len];
        read(gpa, b, 0, len);
        return b;
    }

    public void write(long gpa, byte[] src, int off, int len) {
        check(gpa, len).at(gpa).write(0, src, off, len);
    }

    public void write(long gpa, byte[] src) {
        write(gpa, src, 0, src.length);
    }

    public void fill(long gpa, long len, byte value) {
        check(gpa, len).at(gpa).setMemory(0, len, value);
    }

    public byte readByte(long gpa) {
        return check(gpa, 1).at(gpa).getByte(0);
    }

    public short readShort(long gpa) {
        return check(gpa, 2).at(gpa).getShort(0);
    }

    public int readInt(long gpa) {
        return check(gpa, 4).at(gpa).getInt(0);
    }

    public long readLong(long gpa) {
        return check(gpa, 8).at(gpa).getLong(0);
    }

    public void writeByte(long gpa, byte v) {
        check(gpa, 1).at(gpa).setByte(0, v);
    }

    public void writeShort(long gpa, short v) {
        check(gpa, 2).at(gpa).setShort(0, v);
    }

    public void writeInt(long gpa, int v) {
        check(gpa, 4).at(gpa).setInt(0, v);
    }

    public void writeLong(long gpa, long v) {
        check(gpa, 8).at(gpa).setLong(0, v);
    }

    /**
     * Writes all regions, back to back, to {@code file} (the snapshot memory image). The bytes
     * go to a new file that then replaces {@code file} in one rename: truncating a memory file
     * in place would hand SIGBUS to every clone that maps it, this VM included if it was
     * restored from there.
     */
    public void saveTo(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (MemoryRegion r : regions) {
                long done = 0;
                while (done < r.size()) {
                    int chunk = (int) Math.min(r.size() - done, 1 << 30);
                    ByteBuffer buf = r.buffer(done, chunk);
                    while (buf.hasRemaining()) {
                        ch.write(buf);
                    }
                    done += chunk;
                }
            }
            ch.force(false);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public void close() {
        for (MemoryRegion r : regions) {
            r.close();
        }
    }
}
