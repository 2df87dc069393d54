package io.kiln.microvm.devices.virtio;

/** Constants from the virtio 1.x specification. */
public final class Virtio {
    private Virtio() {
    }

    public static final int TYPE_CONSOLE = 3;
    public static final int TYPE_RNG = 4;

    public static final long F_VERSION_1 = 1L << 32;

    public static final int STATUS_ACKNOWLEDGE = 1;
    public static final int STATUS_DRIVER = 2;
    public static final int STATUS_DRIVER_OK = 4;
    public static final int STATUS_FEATURES_OK = 8;
    public static final int STATUS_DEVICE_NEEDS_RESET = 0x40;
    public static final int STATUS_FAILED = 0x80;

    public static final int INTERRUPT_USED_RING = 1;
    public static final int INTERRUPT_CONFIG = 2;
}
