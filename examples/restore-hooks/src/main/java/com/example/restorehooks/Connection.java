package com.example.restorehooks;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Stands in for a database connection or an HTTP client's pool. A real one holds a socket, and
 * a socket open when the snapshot is taken is dead in every clone restored from it.
 */
final class Connection implements AutoCloseable {

    private static final AtomicInteger OPENED = new AtomicInteger();

    private final String name = "connection #" + OPENED.incrementAndGet();
    private volatile boolean open = true;

    static Connection open() {
        return new Connection();
    }

    /** A round trip to the server; fails on a closed connection, as a dead socket would. */
    String ping() {
        if (!open) {
            throw new IllegalStateException(name + " is closed");
        }
        return name;
    }

    @Override
    public void close() {
        open = false;
    }
}
