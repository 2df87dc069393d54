package io.kiln.microvm.devices;

/**
 * Just enough of the i8042 keyboard controller for Linux's {@code reboot=k}: the CPU-reset
 * command (0xFE to port 0x64) stops the VM cleanly through the reset callback. Status reads say
 * "no data", so the kernel's keyboard probe finds nothing and moves on.
 */
public final class I8042 implements BusDevice {
    public static final int DATA_PORT = 0x60;
    public static final int PORT_RANGE = 5; // 0x60..0x64
    private static final int COMMAND_OFFSET = 4;
    private static final int CMD_RESET_CPU = 0xfe;

    private final Runnable onReset;

    public I8042(Runnable onReset) {
        this.onReset = onReset;
    }

    @Override
    public void read(long offset, byte[] data) {
        java.util.Arrays.fill(data, (byte) 0);
    }

    @Override
    public void write(long offset, byte[] data) {
        if (offset == COMMAND_OFFSET && data.length == 1 && (data[0] & 0xff) == CMD_RESET_CPU) {
            onReset.run();
        }
    }
}
