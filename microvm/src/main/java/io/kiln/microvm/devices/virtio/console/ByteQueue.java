package io.kiln.microvm.devices.virtio.console;

import java.util.ArrayDeque;

/**
 * A bounded FIFO of bytes between a host thread and the device thread. The host side blocks when
 * it is full (writer) or empty (reader); the device side never blocks: it takes what is there and
 * leaves the rest, so a paused or slow guest can never stall the device thread.
 */
final class ByteQueue {
    private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
    private final int capacity;
    private int headOffset;
    private long size;
    private boolean closed;

    ByteQueue(int capacity) {
        this.capacity = capacity;
    }

    synchronized long size() {
        return size;
    }

    synchronized boolean hasRoom() {
        return size < capacity;
    }

    /** Host side: waits while full (a soft cap: one write may overshoot it). */
    synchronized void put(byte[] b, int off, int len) throws java.io.InterruptedIOException {
        while (size >= capacity && !closed) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException();
            }
        }
        if (closed || len == 0) {
            return;
        }
        chunks.add(java.util.Arrays.copyOfRange(b, off, off + len));
        size += len;
        notifyAll();
    }

    /** Device side: appends without waiting. */
    synchronized void offer(byte[] b) {
        if (b.length == 0 || closed) {
            return;
        }
        chunks.add(b);
        size += b.length;
        notifyAll();
    }

    /** Takes up to {@code max} bytes without waiting; an empty array if there are none. */
    synchronized byte[] poll(int max) {
        int n = (int) Math.min(max, size);
        byte[] out = new byte[n];
        int done = 0;
        while (done < n) {
            byte[] head = chunks.peek();
            int take = Math.min(n - done, head.length - headOffset);
            System.arraycopy(head, headOffset, out, done, take);
            done += take;
            headOffset += take;
            if (headOffset == head.length) {
                chunks.poll();
                headOffset = 0;
            }
        }
        size -= n;
        notifyAll();
        return out;
    }

    /** Host side: waits for at least one byte; -1 once closed and drained. */
    synchronized int read(byte[] b, int off, int len) throws java.io.InterruptedIOException {
        while (size == 0 && !closed) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException();
            }
        }
        if (size == 0) {
            return -1;
        }
        byte[] got = poll(len);
        System.arraycopy(got, 0, b, off, got.length);
        return got.length;
    }

    synchronized void close() {
        closed = true;
        notifyAll();
    }
}
