package io.kiln.microvm.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kiln.microvm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The MP table byte by byte, as Linux's mpparse reads it (Intel MP Specification 1.4). */
class MpTableTest {
    private static final long FLOATING = BootLayout.EBDA_START;
    private static final long TABLE = BootLayout.EBDA_START + 16;

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4, 254})
    void tableIsWhatLinuxExpects(int vcpus) {
        try (GuestMemory m = GuestMemory.anonymous(1 << 20)) {
            int size = MpTable.write(m, vcpus);
            int tableLength = 44 + 20 * vcpus + 8 * (1 + 1 + 24 + 2);
            assertEquals(16 + tableLength, size);

            // The floating pointer: signature, table address, length in 16-byte units, spec 1.4,
            // sums to zero, no default configuration (feature byte 1 is 0).
            ByteBuffer fp = buffer(m.read(FLOATING, 16));
            assertEquals("_MP_", ascii(fp, 0, 4));
            assertEquals(TABLE, fp.getInt(4) & 0xffffffffL);
            assertEquals(1, fp.get(8));
            assertEquals(4, fp.get(9));
            assertEquals(0, sum(m.read(FLOATING, 16)));
            for (int i = 11; i < 16; i++) {
                assertEquals(0, fp.get(i), "floating pointer feature byte " + (i - 10));
            }

            // The header.
            byte[] table = m.read(TABLE, tableLength);
            ByteBuffer t = buffer(table);
            assertEquals("PCMP", ascii(t, 0, 4));
            assertEquals(tableLength, t.getShort(4) & 0xffff);
            assertEquals(4, t.get(6));
            assertEquals(0, sum(table), "table checksum");
            assertEquals("KILN    ", ascii(t, 8, 8));
            assertEquals("MICROVM     ", ascii(t, 16, 12));
            assertEquals(0, t.getInt(28), "no OEM table");
            assertEquals(0, t.getShort(32), "OEM table size");
            assertEquals(vcpus + 1 + 1 + 24 + 2, t.getShort(34) & 0xffff, "entry count");
            assertEquals(BootLayout.LAPIC_ADDR, t.getInt(36) & 0xffffffffL);
            assertEquals(0, t.getShort(40), "no extended table");
            assertEquals(0, t.get(42), "extended table checksum");

            // Processors: APIC ids 0..n-1, all enabled, the first one the bootstrap processor.
            int at = 44;
            for (int id = 0; id < vcpus; id++, at += 20) {
                assertEquals(0, t.get(at), "processor entry type");
                assertEquals(id, t.get(at + 1) & 0xff, "local APIC id");
                assertEquals(id == 0 ? 3 : 1, t.get(at + 3), "CPU flags (EN, BP)");
            }

            // The ISA bus, id 0.
            assertEquals(1, t.get(at));
            assertEquals(0, t.get(at + 1));
            assertEquals("ISA   ", ascii(t, at + 2, 6));
            at += 8;

            // The IOAPIC: id n, usable, at its MMIO address.
            int ioapicId = vcpus;
            assertEquals(2, t.get(at));
            assertEquals(ioapicId, t.get(at + 1) & 0xff);
            assertEquals(1, t.get(at + 3), "IOAPIC usable");
            assertEquals(BootLayout.IOAPIC_ADDR, t.getInt(at + 4) & 0xffffffffL);
            at += 8;

            // ISA IRQ n -> IOAPIC pin n, each an ordinary INT with conforming polarity and
            // trigger; IRQ0 included (an ExtINT on pin 0 makes Linux oops in setup_IO_APIC).
            for (int irq = 0; irq < 24; irq++, at += 8) {
                String what = "I/O interrupt entry for IRQ" + irq;
                assertEquals(3, t.get(at), what + ": type");
                assertEquals(0, t.get(at + 1), what + ": interrupt type (0 = INT, 3 = ExtINT)");
                assertEquals(0, t.getShort(at + 2), what + ": flags (conforming)");
                assertEquals(0, t.get(at + 4), what + ": source bus");
                assertEquals(irq, t.get(at + 5), what + ": source bus IRQ");
                assertEquals(ioapicId, t.get(at + 6) & 0xff, what + ": destination IOAPIC");
                assertEquals(irq, t.get(at + 7), what + ": destination pin");
            }

            // Local interrupts: the 8259 (ExtINT) on LINT0 of the BSP, NMI on LINT1 of all.
            assertEquals(4, t.get(at));
            assertEquals(3, t.get(at + 1), "LINT0 is ExtINT");
            assertEquals(0, t.get(at + 6), "LINT0 destination: APIC 0");
            assertEquals(0, t.get(at + 7), "LINT0");
            at += 8;
            assertEquals(4, t.get(at));
            assertEquals(1, t.get(at + 1), "LINT1 is NMI");
            assertEquals(0xff, t.get(at + 6) & 0xff, "LINT1 destination: all APICs");
            assertEquals(1, t.get(at + 7), "LINT1");
            at += 8;
            assertEquals(tableLength, at);
        }
    }

    @Test
    void vcpuCountOutsideTheSpecIsRejected() {
        try (GuestMemory m = GuestMemory.anonymous(1 << 20)) {
            assertThrows(BootException.class, () -> MpTable.write(m, 0));
            assertThrows(BootException.class, () -> MpTable.write(m, 255));
        }
    }

    private static ByteBuffer buffer(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static String ascii(ByteBuffer b, int at, int len) {
        byte[] s = new byte[len];
        b.get(at, s);
        return new String(s, StandardCharsets.US_ASCII);
    }

    private static int sum(byte[] b) {
        int s = 0;
        for (byte x : b) {
            s += x & 0xff;
        }
        return s & 0xff;
    }
}
