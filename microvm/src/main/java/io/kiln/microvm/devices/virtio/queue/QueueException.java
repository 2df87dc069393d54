package io.kiln.microvm.devices.virtio.queue;

/** The guest put something malformed in a virtqueue: a loop, an index or address out of range, an overflow. */
public final class QueueException extends Exception {
    public QueueException(String message) {
        super(message);
    }
}
