package io.kiln.microvm.devices.virtio.queue;

import io.kiln.microvm.memory.GuestMemory;
import io.kiln.microvm.memory.GuestMemoryException;
import java.util.ArrayList;
import java.util.List;

/**
 * A split virtqueue (virtio 1.x, section 2.7), device side. Everything read from the rings is
 * guest-controlled and checked before use: the avail index may not run more than a queue's worth
 * ahead, heads and next indexes must be below the queue size, a chain may not be longer than
 * the queue (which also catches loops), indirect descriptors are refused (not negotiated), and
 * every buffer must lie inside guest RAM with a total length that fits 32 bits.
 */
public final class Queue {
    private static final int DESC_SIZE = 16;
    private static final int F_NEXT = 1;
    private static final int F_WRITE = 2;
    private static final int F_INDIRECT = 4;

    private final int maxSize;
    private int size;
    private boolean ready;
    private long descTable;
    private long availRing;
    private long usedRing;
    private int nextAvail;
    private int nextUsed;

    public Queue(int maxSize) {
        this.maxSize = maxSize;
        this.size = maxSize;
    }

    public int maxSize() {
        return maxSize;
    }

    public int size() {
        return size;
    }

    public void setSize(int size) {
        this.size = size;
    }

    public boolean ready() {
        return ready;
    }

    public void setReady(boolean ready) {
        this.ready = ready;
    }

    public long descTable() {
        return descTable;
    }

    public void setDescTable(long a) {
        this.descTable = a;
    }

    public long availRing() {
        return availRing;
    }

    public void setAvailRing(long a) {
        this.availRing = a;
    }

    public long usedRing() {
        return usedRing;
    }

    public void setUsedRing(long a) {
        this.usedRing = a;
    }

    public void reset() {
        size = maxSize;
        ready = false;
        descTable = availRing = usedRing = 0;
        nextAvail = nextUsed = 0;
    }

    /** Why this queue cannot be used with {@code memory}, or null if it can. */
    public String validate(GuestMemory memory) {
        if (size == 0 || size > maxSize || (size & (size - 1)) != 0) {
            return "queue size " + size + " is not a power of two in 1.." + maxSize;
        }
        if ((descTable & 15) != 0 || (availRing & 1) != 0 || (usedRing & 3) != 0) {
            return "queue rings are misaligned";
        }
        if (!memory.isValid(descTable, (long) DESC_SIZE * size)) {
            return String.format("descriptor table 0x%x is outside guest RAM", descTable);
        }
        if (!memory.isValid(availRing, 6 + 2L * size)) {
            return String.format("available ring 0x%x is outside guest RAM", availRing);
        }
        if (!memory.isValid(usedRing, 6 + 8L * size)) {
            return String.format("used ring 0x%x is outside guest RAM", usedRing);
        }
        return null;
    }

    /** Chains the driver has made available that we have not taken yet. */
    public int pending(GuestMemory memory) throws QueueException {
        int availIdx = Short.toUnsignedInt(read16(memory, availRing + 2));
        int pending = (availIdx - nextAvail) & 0xffff;
        if (pending > size) {
            throw new QueueException("available index " + availIdx + " is " + pending + " ahead of " + nextAvail
                    + ", more than the queue size " + size);
        }
        return pending;
    }

    /** Takes the next available chain, or returns null if there is none. */
    public DescriptorChain pop(GuestMemory memory) throws QueueException {
        if (pending(memory) == 0) {
            return null;
        }
        int head = Short.toUnsignedInt(read16(memory, availRing + 4 + 2L * (nextAvail % size)));
        nextAvail = (nextAvail + 1) & 0xffff;
        return parseChain(memory, head);
    }

    private DescriptorChain parseChain(GuestMemory memory, int head) throws QueueException {
        List<Descriptor> out = new ArrayList<>();
        int index = head;
        long total = 0;
        boolean seenWritable = false;
        while (true) {
            if (index >= size) {
                throw new QueueException("descriptor index " + index + " is outside the queue of size " + size);
            }
            if (out.size() >= size) {
                throw new QueueException("descriptor chain from head " + head + " is longer than the queue (a loop?)");
            }
            long d = descTable + (long) DESC_SIZE * index;
            long addr;
            int len;
            int flags;
            int next;
            try {
                addr = memory.readLong(d);
                len = memory.readInt(d + 8);
                flags = Short.toUnsignedInt(memory.readShort(d + 12));
                next = Short.toUnsignedInt(memory.readShort(d + 14));
            } catch (GuestMemoryException e) {
                throw new QueueException(e.getMessage());
            }
            if ((flags & F_INDIRECT) != 0) {
                throw new QueueException("indirect descriptor in chain " + head + ", but VIRTIO_F_INDIRECT_DESC was not offered");
            }
            long ulen = Integer.toUnsignedLong(len);
            if (!memory.isValid(addr, ulen)) {
                throw new QueueException(String.format("descriptor %d buffer [0x%x, +0x%x) is outside guest RAM", index, addr, ulen));
            }
            boolean writable = (flags & F_WRITE) != 0;
            if (!writable && seenWritable) {
                throw new QueueException("readable descriptor after a writable one in chain " + head);
            }
            seenWritable |= writable;
            total += ulen;
            if (total > 0xffff_ffffL) {
                throw new QueueException("descriptor chain " + head + " is longer than 4 GiB in total");
            }
            out.add(new Descriptor(addr, len, writable));
            if ((flags & F_NEXT) == 0) {
                return new DescriptorChain(head, List.copyOf(out));
            }
            index = next;
        }
    }

    /** Returns a chain to the driver with the number of bytes written into it. */
    public void addUsed(GuestMemory memory, int head, int writtenLength) throws QueueException {
        long elem = usedRing + 4 + 8L * (nextUsed % size);
        try {
            memory.writeInt(elem, head);
            memory.writeInt(elem + 4, writtenLength);
            nextUsed = (nextUsed + 1) & 0xffff;
            // x86 stores are not reordered with other stores: the element is visible before the index.
            memory.writeShort(usedRing + 2, (short) nextUsed);
        } catch (GuestMemoryException e) {
            throw new QueueException(e.getMessage());
        }
    }

    private static short read16(GuestMemory memory, long gpa) throws QueueException {
        try {
            return memory.readShort(gpa);
        } catch (GuestMemoryException e) {
            throw new QueueException(e.getMessage());
        }
    }

    public QueueState state() {
        return new QueueState(maxSize, size, ready, descTable, availRing, usedRing, nextAvail, nextUsed);
    }

    public void restore(QueueState s) {
        size = s.size();
        ready = s.ready();
        descTable = s.descTable();
        availRing = s.availRing();
        usedRing = s.usedRing();
        nextAvail = s.nextAvail();
        nextUsed = s.nextUsed();
    }
}
