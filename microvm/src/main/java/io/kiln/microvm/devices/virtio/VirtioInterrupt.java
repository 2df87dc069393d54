package io.kiln.microvm.devices.virtio;

import io.kiln.microvm.devices.InterruptLine;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The interrupt status register of a virtio-mmio device and the line behind it. Devices set a
 * cause bit and raise the line; the driver reads the status and acknowledges what it handled.
 */
public final class VirtioInterrupt {
    private final AtomicInteger status = new AtomicInteger();
    private final InterruptLine line;

    public VirtioInterrupt(InterruptLine line) {
        this.line = line;
    }

    public void signalUsed() {
        status.getAndUpdate(s -> s | Virtio.INTERRUPT_USED_RING);
        line.trigger();
    }

    public void signalConfig() {
        status.getAndUpdate(s -> s | Virtio.INTERRUPT_CONFIG);
        line.trigger();
    }

    public int status() {
        return status.get();
    }

    public void acknowledge(int bits) {
        status.getAndUpdate(s -> s & ~bits);
    }

    public void set(int value) {
        status.set(value);
    }
}
