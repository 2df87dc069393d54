package io.kiln.microvm.devices.virtio.queue;

import java.util.List;

/**
 * A fully validated descriptor chain: its head index (what goes back in the used ring) and its
 * buffers in order. Readable buffers come before writable ones, as the spec requires.
 */
public record DescriptorChain(int head, List<Descriptor> descriptors) {
    public long readableLength() {
        long n = 0;
        for (Descriptor d : descriptors) {
            if (!d.writable()) {
                n += d.length();
            }
        }
        return n;
    }

    public long writableLength() {
        long n = 0;
        for (Descriptor d : descriptors) {
            if (d.writable()) {
                n += d.length();
            }
        }
        return n;
    }
}
