package io.kiln.microvm.devices;

/** A device's interrupt: an irqfd in a VM, a counter in unit tests. Edge-triggered. */
@FunctionalInterface
public interface InterruptLine {
    void trigger();
}
