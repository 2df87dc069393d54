package io.kiln.microvm.boot;

import io.kiln.microvm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * An Intel MultiProcessor Specification 1.4 table in the EBDA, which is how a Linux guest without
 * ACPI finds its CPUs (APIC ids 0..n-1), the ISA bus, the IOAPIC (id n) and the 24 IRQ routes.
 *
 * <p>Layout: a 16-byte floating pointer at the start of the EBDA, then the table right after
 * it: a 44-byte header, one 20-byte processor entry per vCPU, then 8-byte entries (bus, IOAPIC,
 * 24 I/O interrupt assignments, 2 local interrupt assignments).
 */
public final class MpTable {
    private static final int APIC_VERSION = 0x14;
    private static final int IOAPIC_VERSION = 0x11;
    private static final int IOAPIC_PINS = 24;

    private MpTable() {
    }

    /** Writes the table and returns its total size in bytes. */
    public static int write(GuestMemory memory, int vcpus) {
        if (vcpus < 1 || vcpus > 254) {
            throw new BootException("MP table supports 1..254 vCPUs, not " + vcpus);
        }
        ByteBuffer t = ByteBuffer.allocate(44 + 20 * vcpus + 8 + 8 + 8 * IOAPIC_PINS + 16).order(ByteOrder.LITTLE_ENDIAN);
        t.position(44);
        int entries = 0;
        for (int id = 0; id < vcpus; id++) {
            t.put((byte) 0).put((byte) id).put((byte) APIC_VERSION).put((byte) (id == 0 ? 3 : 1)); // EN (| BP for cpu 0)
            t.putInt(0x600).putInt(0x201).putInt(0).putInt(0); // signature: family 6; features: FPU, APIC
            entries++;
        }
        t.put((byte) 1).put((byte) 0).put("ISA   ".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        entries++;
        int ioapicId = vcpus;
        t.put((byte) 2).put((byte) ioapicId).put((byte) IOAPIC_VERSION).put((byte) 1).putInt((int) BootLayout.IOAPIC_ADDR);
        entries++;
        // ISA IRQ n arrives on IOAPIC pin n as an ordinary interrupt (type INT, conforming
        // polarity and trigger), IRQ0 included: that is KVM's default routing (GSI n -> pin n).
        // No ExtINT on an IOAPIC pin: KVM's IOAPIC does not wire the 8259 there, and Linux,
        // told so by the table, oopses in setup_IO_APIC ("ExtINT not setup in hardware but
        // reported by MP table"). The 8259 reaches the CPU through LINT0 (below). As Firecracker.
        for (int irq = 0; irq < IOAPIC_PINS; irq++) {
            t.put((byte) 3).put((byte) 0).putShort((short) 0).put((byte) 0).put((byte) irq).put((byte) ioapicId).put((byte) irq);
            entries++;
        }
        t.put((byte) 4).put((byte) 3).putShort((short) 0).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0); // ExtINT → LINT0
        t.put((byte) 4).put((byte) 1).putShort((short) 0).put((byte) 0).put((byte) 0).put((byte) 0xff).put((byte) 1); // NMI → LINT1
        entries += 2;
        int length = t.position();
        t.position(0);
        t.put("PCMP".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putShort((short) length).put((byte) 4).put((byte) 0);
        t.put("KILN    ".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        t.put("MICROVM     ".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        t.putInt(0).putShort((short) 0).putShort((short) entries).putInt((int) BootLayout.LAPIC_ADDR).putShort((short) 0).put((byte) 0).put((byte) 0);
        byte[] table = java.util.Arrays.copyOf(t.array(), length);
        table[7] = checksum(table);

        long tableAddr = BootLayout.EBDA_START + 16;
        ByteBuffer fp = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        fp.put("_MP_".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt((int) tableAddr).put((byte) 1).put((byte) 4);
        byte[] floating = fp.array();
        floating[10] = checksum(floating);
        memory.write(BootLayout.EBDA_START, floating);
        memory.write(tableAddr, table);
        return 16 + length;
    }

    /** The byte that makes the whole structure sum to zero (with the checksum byte still zero). */
    static byte checksum(byte[] b) {
        int sum = 0;
        for (byte x : b) {
            sum += x & 0xff;
        }
        return (byte) -sum;
    }
}
