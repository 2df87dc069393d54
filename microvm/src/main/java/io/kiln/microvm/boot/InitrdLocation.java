package io.kiln.microvm.boot;

/** Where the initrd was placed in guest RAM. */
public record InitrdLocation(long address, long size) {
}
