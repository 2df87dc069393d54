package io.kiln.microvm.boot;

/** One e820 map entry as the zero page carries it. */
public record E820Entry(long address, long size, int type) {
    public static final int RAM = 1;
    public static final int RESERVED = 2;
}
