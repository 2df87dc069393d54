package io.kiln.microvm.kvm;

/** One model-specific register: its index and 64-bit value. */
public record MsrEntry(int index, long data) {
}
