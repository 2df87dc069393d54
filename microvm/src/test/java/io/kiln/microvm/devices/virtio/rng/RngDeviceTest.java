package io.kiln.microvm.devices.virtio.rng;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.microvm.devices.virtio.Virtio;
import io.kiln.microvm.devices.virtio.queue.TestDriver;
import java.util.List;
import org.junit.jupiter.api.Test;

class RngDeviceTest {
    @Test
    void fillsWritableBuffers() {
        RngDevice d = new RngDevice();
        try (TestDriver t = new TestDriver(d).setUp()) {
            assertEquals(Virtio.TYPE_RNG, t.read(0x08));
            t.putDescriptor(0, 0, 0x40000, 64, 2, 0);
            t.offer(0, 0, 1);
            t.notifyQueue(0);
            List<int[]> used = t.takeUsed(0);
            assertEquals(1, used.size());
            assertEquals(64, used.get(0)[1]);
            byte[] got = t.memory.read(0x40000, 64);
            assertTrue(java.util.stream.IntStream.range(0, 64).anyMatch(i -> got[i] != 0));
            assertEquals(64, d.metrics().bytes.get());
        }
    }

    @Test
    void loopNeedsReset() {
        RngDevice d = new RngDevice();
        try (TestDriver t = new TestDriver(d).setUp()) {
            t.putDescriptor(0, 0, 0x40000, 64, 3, 0);
            t.offer(0, 0, 1);
            t.notifyQueue(0);
            assertTrue(t.needsReset());
            assertEquals(1, d.metrics().invalidChains.get());
        }
    }
}
