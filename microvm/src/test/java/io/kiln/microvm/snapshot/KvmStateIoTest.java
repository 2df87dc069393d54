package io.kiln.microvm.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.microvm.kvm.MsrEntry;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The decisions {@link KvmStateIo} makes about saved state, without KVM. */
class KvmStateIoTest {

    @Test
    void tscRatesWithin250ppmNeedNoScaling() {
        assertFalse(KvmStateIo.tscNeedsScaling(2_000_000, 2_000_500), "250 ppm exactly");
        assertTrue(KvmStateIo.tscNeedsScaling(2_000_000, 2_000_501));
        assertTrue(KvmStateIo.tscNeedsScaling(2_000_000, 1_999_499));
        assertFalse(KvmStateIo.tscNeedsScaling(0, 3_000_000), "rate unknown at snapshot time");
        assertFalse(KvmStateIo.tscNeedsScaling(3_000_000, 0), "rate unknown here");
    }

    @Test
    void aClearedTscDeadlineIsRestoredAsTheTscSoTheTimerFires() {
        List<MsrEntry> saved = List.of(new MsrEntry(0x10, 0x5000), new MsrEntry(0xc0000082, 7), new MsrEntry(0x6e0, 0));
        assertEquals(List.of(new MsrEntry(0x10, 0x5000), new MsrEntry(0xc0000082, 7), new MsrEntry(0x6e0, 0x5000)),
                KvmStateIo.msrsToRestore(saved));
        List<MsrEntry> armed = List.of(new MsrEntry(0x10, 0x5000), new MsrEntry(0x6e0, 0x9000));
        assertEquals(armed, KvmStateIo.msrsToRestore(armed));
    }

}
