package io.kiln.microvm.boot;

import io.kiln.microvm.memory.GuestMemory;

/**
 * Identity page tables for the 64-bit entry: PML4 → one PDPT → four page directories of 2 MiB
 * pages covering the first 4 GiB, so the kernel, zero page, command line, initrd and the
 * 32-bit MMIO devices are all reachable at their physical addresses.
 */
public final class PageTables {
    private static final long PRESENT_RW = 0x3;
    private static final long PAGE_SIZE_2M = 0x80;

    private PageTables() {
    }

    /** Returns the value for CR3. */
    public static long writeIdentityMap(GuestMemory memory) {
        memory.writeLong(BootLayout.PML4_ADDR, BootLayout.PDPT_ADDR | PRESENT_RW);
        for (int i = 1; i < 512; i++) {
            memory.writeLong(BootLayout.PML4_ADDR + 8L * i, 0);
        }
        for (int g = 0; g < 512; g++) {
            long v = g < 4 ? (BootLayout.PD_ADDR + 0x1000L * g) | PRESENT_RW : 0;
            memory.writeLong(BootLayout.PDPT_ADDR + 8L * g, v);
        }
        for (int i = 0; i < 4 * 512; i++) {
            memory.writeLong(BootLayout.PD_ADDR + 8L * i, ((long) i << 21) | PRESENT_RW | PAGE_SIZE_2M);
        }
        return BootLayout.PML4_ADDR;
    }
}
