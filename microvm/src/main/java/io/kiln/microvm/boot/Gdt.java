package io.kiln.microvm.boot;

import io.kiln.microvm.kvm.DescriptorTable;
import io.kiln.microvm.kvm.Segment;
import io.kiln.microvm.memory.GuestMemory;

/**
 * The flat GDT Linux's 64-bit entry expects: null, 64-bit code (selector 0x08), data (0x10) and a
 * TSS (0x18), and an empty IDT. The segment registers are loaded from the same descriptors, so the
 * hidden parts KVM sees always match what the guest would read back.
 */
public final class Gdt {
    public static final long NULL = 0;
    public static final long CODE64 = 0x00af9b000000ffffL;
    public static final long DATA = 0x00cf93000000ffffL;
    public static final long TSS = 0x008f8b000000ffffL;
    private static final long[] ENTRIES = {NULL, CODE64, DATA, TSS};

    private Gdt() {
    }

    public static void write(GuestMemory memory) {
        for (int i = 0; i < ENTRIES.length; i++) {
            memory.writeLong(BootLayout.GDT_ADDR + 8L * i, ENTRIES[i]);
        }
        memory.writeLong(BootLayout.IDT_ADDR, 0);
    }

    public static Segment code() {
        return Segment.fromGdtEntry(0x08, CODE64);
    }

    public static Segment data() {
        return Segment.fromGdtEntry(0x10, DATA);
    }

    public static Segment tss() {
        return Segment.fromGdtEntry(0x18, TSS);
    }

    public static DescriptorTable gdtr() {
        return new DescriptorTable(BootLayout.GDT_ADDR, ENTRIES.length * 8 - 1);
    }

    public static DescriptorTable idtr() {
        return new DescriptorTable(BootLayout.IDT_ADDR, 7);
    }
}
