package io.kiln.microvm.devices.virtio.console;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/** Counters for one virtio-console device; read from any thread. */
public final class ConsoleMetrics {
    public final AtomicLong txBytes = new AtomicLong();
    public final AtomicLong rxBytes = new AtomicLong();
    public final AtomicLong txChains = new AtomicLong();
    public final AtomicLong rxChains = new AtomicLong();
    /** Control messages from the driver, and to it. */
    public final AtomicLong controlIn = new AtomicLong();
    public final AtomicLong controlOut = new AtomicLong();
    public final AtomicLong invalidChains = new AtomicLong();
    public final AtomicReference<String> lastError = new AtomicReference<>();
}
