package io.kiln.microvm.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestMemoryTest {
    @TempDir
    Path tmp;

    @Test
    void accessesInsideRamWork() {
        try (GuestMemory m = GuestMemory.anonymous(1 << 20)) {
            m.writeLong(0x1000, 0x1122334455667788L);
            assertEquals(0x1122334455667788L, m.readLong(0x1000));
            m.write((1 << 20) - 3, new byte[] {1, 2, 3});
            assertArrayEquals(new byte[] {1, 2, 3}, m.read((1 << 20) - 3, 3));
        }
    }

    @Test
    void accessesOutsideRamAreRejected() {
        try (GuestMemory m = GuestMemory.anonymous(1 << 20)) {
            assertThrows(GuestMemoryException.class, () -> m.read((1 << 20) - 2, 3));
            assertThrows(GuestMemoryException.class, () -> m.readInt(1 << 20));
            assertThrows(GuestMemoryException.class, () -> m.readLong(-8));
            assertThrows(GuestMemoryException.class, () -> m.read(Long.MAX_VALUE - 1, 4));
            assertThrows(GuestMemoryException.class, () -> m.fill(0, (1 << 20) + 1L, (byte) 0));
            assertFalse(m.isValid(0xffff_ffff_ffff_f000L, 0x2000));
            assertTrue(m.isValid(0, 1 << 20));
        }
    }

    @Test
    void ramAboveTheMmioGapGetsItsOwnRegion() {
        var ranges = MemoryLayout.ramRanges(MemoryLayout.MMIO_GAP_START + 0x1000);
        assertEquals(2, ranges.size());
        assertEquals(MemoryLayout.MMIO_GAP_END, ranges.get(1)[0]);
        assertEquals(0x1000, ranges.get(1)[1]);
    }

    @Test
    void privateFileMappingNeverWritesTheFile() throws Exception {
        Path file = tmp.resolve("mem");
        try (GuestMemory m = GuestMemory.anonymous(1 << 20)) {
            m.writeLong(0x2000, 42);
            m.saveTo(file);
        }
        byte[] before = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
        try (GuestMemory a = GuestMemory.privateFile(1 << 20, file); GuestMemory b = GuestMemory.privateFile(1 << 20, file)) {
            assertEquals(42, a.readLong(0x2000));
            a.writeLong(0x2000, 7);
            assertEquals(42, b.readLong(0x2000));
            assertEquals(7, a.readLong(0x2000));
        }
        assertArrayEquals(before, MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
