package io.kiln.microvm.devices.virtio.rng;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/** Counters for one virtio-rng device. */
public final class RngMetrics {
    public final AtomicLong requests = new AtomicLong();
    public final AtomicLong bytes = new AtomicLong();
    public final AtomicLong invalidChains = new AtomicLong();
    public final AtomicReference<String> lastError = new AtomicReference<>();
}
