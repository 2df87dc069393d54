package io.kiln.microvm.memory;

import java.util.ArrayList;
import java.util.List;

/**
 * Where RAM goes in the guest-physical address space: from 0 up to the 32-bit MMIO gap (which
 * holds the IOAPIC, LAPIC and virtio-mmio devices), and any remainder from 4 GiB up.
 */
public final class MemoryLayout {
    public static final long MMIO_GAP_START = 0xC000_0000L;
    public static final long MMIO_GAP_END = 0x1_0000_0000L;

    private MemoryLayout() {
    }

    /** {start, size} pairs for {@code sizeBytes} of RAM. */
    public static List<long[]> ramRanges(long sizeBytes) {
        if (sizeBytes <= 0 || (sizeBytes & 0xfff) != 0) {
            throw new IllegalArgumentException("memory size must be a positive multiple of 4 KiB: " + sizeBytes);
        }
        List<long[]> out = new ArrayList<>();
        long low = Math.min(sizeBytes, MMIO_GAP_START);
        out.add(new long[] {0, low});
        if (sizeBytes > low) {
            out.add(new long[] {MMIO_GAP_END, sizeBytes - low});
        }
        return out;
    }
}
