package io.kiln.microvm.boot;

/**
 * Where a kernel landed: its 64-bit entry point, the first free address after it, and, for a
 * bzImage, the setup header to copy into the zero page (null for a vmlinux ELF).
 */
public record LoadedKernel(long entry, long end, byte[] setupHeader) {
}
