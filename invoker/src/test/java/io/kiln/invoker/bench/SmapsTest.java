package io.kiln.invoker.bench;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmarks' smaps reading: fields summed per group, the Pss_* breakdowns not counted twice. */
class SmapsTest {

    private static final List<String> SMAPS = List.of(
            "55d0c0a00000-55d0c0a21000 r--p 00000000 08:01 1234                       /usr/bin/qemu-system-x86_64",
            "Size:                132 kB",
            "Rss:                 120 kB",
            "Pss:                  60 kB",
            "Pss_Anon:              0 kB",
            "Pss_File:             60 kB",
            "Private_Clean:        40 kB",
            "Private_Dirty:         0 kB",
            "7f0000000000-7f0010000000 rw-p 00000000 08:01 99                         /data/snapshots/fn/memory",
            "Rss:               65536 kB",
            "Pss:               40000 kB",
            "Pss_Dirty:          8000 kB",
            "Private_Clean:     12000 kB",
            "Private_Dirty:      8000 kB",
            "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]",
            "Rss:                  16 kB",
            "Pss:                  16 kB",
            "Private_Clean:         0 kB",
            "Private_Dirty:        16 kB",
            "VmFlags: rd wr mr mw me gd ac");

    @Test
    void splitsTheSelectedMappingsFromTheRest() {
        Smaps.Split s = Smaps.parse(SMAPS, path -> path.endsWith("/memory"));
        assertEquals(new Smaps.Private(12000, 8000, 65536, 40000), s.selected());
        assertEquals(new Smaps.Private(40, 16, 136, 76), s.rest());
        assertEquals(1, s.selectedMappings());
        assertEquals(20056, s.all().totalKiB());
    }

    @Test
    void readsARollup() {
        Smaps.Split s = Smaps.parse(List.of(
                "55c462f6a000-7ffed03f7000 ---p 00000000 00:00 0                          [rollup]",
                "Rss:                1620 kB",
                "Pss:                 238 kB",
                "Pss_Dirty:           116 kB",
                "Pss_Anon:            116 kB",
                "Pss_File:            122 kB",
                "Shared_Clean:       1464 kB",
                "Private_Clean:        40 kB",
                "Private_Dirty:       116 kB",
                "SwapPss:               0 kB"), path -> false);
        assertEquals(new Smaps.Private(40, 116, 1620, 238), s.rest());
        assertEquals(Smaps.Private.NONE, s.selected());
    }

    @Test
    void rollupOfThisProcessAgreesWithItsOwnRss() throws IOException {
        Smaps.Private me = Smaps.rollup(ProcessHandle.current().pid());
        assertTrue(me.rssKiB() > 10_000, "a JVM's Rss is tens of MiB, read " + me);
        assertTrue(me.pssKiB() > 0 && me.pssKiB() <= me.rssKiB(), "Pss within Rss: " + me);
        assertTrue(me.totalKiB() <= me.rssKiB(), "private within Rss: " + me);
    }
}
