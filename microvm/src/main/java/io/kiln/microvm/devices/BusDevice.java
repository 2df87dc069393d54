package io.kiln.microvm.devices;

/**
 * A device on the port-I/O or MMIO bus. Offsets are relative to the device's base; {@code data}
 * is the access (1, 2, 4 or 8 bytes, little-endian). Called on vCPU threads.
 */
public interface BusDevice {
    void read(long offset, byte[] data);

    void write(long offset, byte[] data);
}
