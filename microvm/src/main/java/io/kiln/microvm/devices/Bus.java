package io.kiln.microvm.devices;

import java.util.Map;
import java.util.TreeMap;

/**
 * Maps address ranges to devices. Accesses that hit no device read as all-ones and writes are
 * dropped (what real hardware does for an empty bus), and are counted: a guest poking holes is
 * not an error the host should die of.
 */
public final class Bus {
    private record Range(long base, long length, BusDevice device) {
    }

    private final TreeMap<Long, Range> ranges = new TreeMap<>();
    private final java.util.concurrent.atomic.AtomicLong unhandled = new java.util.concurrent.atomic.AtomicLong();

    public synchronized void register(long base, long length, BusDevice device) {
        Map.Entry<Long, Range> below = ranges.floorEntry(base + length - 1);
        if (below != null && below.getValue().base + below.getValue().length > base) {
            throw new IllegalArgumentException(String.format("bus range 0x%x+0x%x overlaps 0x%x", base, length, below.getKey()));
        }
        ranges.put(base, new Range(base, length, device));
    }

    private synchronized Range find(long address, int size) {
        Map.Entry<Long, Range> e = ranges.floorEntry(address);
        if (e == null) {
            return null;
        }
        Range r = e.getValue();
        return address + size <= r.base + r.length ? r : null;
    }

    /** Returns false if no device claims the address (data is then filled with 0xff). */
    public boolean read(long address, byte[] data) {
        Range r = find(address, data.length);
        if (r == null) {
            java.util.Arrays.fill(data, (byte) 0xff);
            unhandled.incrementAndGet();
            return false;
        }
        r.device.read(address - r.base, data);
        return true;
    }

    public boolean write(long address, byte[] data) {
        Range r = find(address, data.length);
        if (r == null) {
            unhandled.incrementAndGet();
            return false;
        }
        r.device.write(address - r.base, data);
        return true;
    }

    /** Accesses no device claimed. */
    public long unhandledAccesses() {
        return unhandled.get();
    }
}
