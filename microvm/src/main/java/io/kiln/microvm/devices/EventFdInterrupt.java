package io.kiln.microvm.devices;

import io.kiln.microvm.kvm.EventFd;

/** An interrupt raised by signalling an eventfd registered with KVM_IRQFD: no vCPU exit needed. */
public record EventFdInterrupt(EventFd eventFd, int gsi) implements InterruptLine {
    @Override
    public void trigger() {
        eventFd.signal();
    }
}
