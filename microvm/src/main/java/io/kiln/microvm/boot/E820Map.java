package io.kiln.microvm.boot;

import io.kiln.microvm.memory.GuestMemory;
import io.kiln.microvm.memory.MemoryRegion;
import java.util.ArrayList;
import java.util.List;

/** Builds the e820 map from guest RAM: low memory up to the EBDA, then everything from 1 MiB. */
public final class E820Map {
    private E820Map() {
    }

    public static List<E820Entry> of(GuestMemory memory) {
        List<E820Entry> out = new ArrayList<>();
        for (MemoryRegion r : memory.regions()) {
            if (r.guestBase() == 0) {
                if (r.size() <= BootLayout.HIMEM_START) {
                    throw new BootException("guest RAM must exceed 1 MiB");
                }
                out.add(new E820Entry(0, BootLayout.EBDA_START, E820Entry.RAM));
                out.add(new E820Entry(BootLayout.HIMEM_START, r.size() - BootLayout.HIMEM_START, E820Entry.RAM));
            } else {
                out.add(new E820Entry(r.guestBase(), r.size(), E820Entry.RAM));
            }
        }
        return out;
    }
}
