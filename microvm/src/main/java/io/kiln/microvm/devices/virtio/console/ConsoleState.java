package io.kiln.microvm.devices.virtio.console;

/**
 * The console device's own snapshot state: the features the driver took, whether the device
 * stopped on a malformed queue, how far the control protocol has brought the function-channel
 * port, and whether the guest has that port open. Bytes still buffered on the host side are not
 * part of it: they belong to the host connection, which does not survive a snapshot.
 *
 * <p>No message the device still owes the driver is stored: {@link Stage} says which one is next,
 * and a restored device sends it as soon as the driver has a control buffer posted.
 */
public record ConsoleState(long ackedFeatures, boolean needsReset, Stage stage, boolean guestOpen) {
    public ConsoleState {
        java.util.Objects.requireNonNull(stage, "stage");
    }

    /**
     * The function-channel port's progress through the control protocol, in the one order this
     * device follows. Each {@code *_PENDING} stage names a message the device owes the driver;
     * it moves on when that message is in a used buffer. The codes are the snapshot format's.
     */
    public enum Stage {
        /** No DEVICE_READY from the driver yet (or it said it failed). */
        WAITING_FOR_DRIVER(0),
        /** DEVICE_READY(1) received; PORT_ADD owed. */
        ADD_PENDING(1),
        /** PORT_ADD delivered; waiting for the driver's PORT_READY. */
        ADDED(2),
        /** PORT_READY(1) received; PORT_OPEN(1) (the host side is connected) owed. */
        OPEN_PENDING(3),
        /** PORT_OPEN delivered; PORT_NAME owed. */
        NAME_PENDING(4),
        /** Everything delivered: the port exists, is named, and the host side is open. */
        ANNOUNCED(5);

        private final int code;

        Stage(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        public static Stage ofCode(int code) {
            for (Stage s : values()) {
                if (s.code == code) {
                    return s;
                }
            }
            throw new IllegalArgumentException("no console port stage " + code);
        }
    }
}
