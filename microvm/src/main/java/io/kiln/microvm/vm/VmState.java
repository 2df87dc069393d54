package io.kiln.microvm.vm;

/** Lifecycle of a {@link MicroVm}. */
public enum VmState {
    CREATED, RUNNING, PAUSED, STOPPED, DESTROYED
}
