package io.kiln.agent.log;

import java.io.OutputStream;

/**
 * An OutputStream behind {@code System.out} or {@code System.err}: collects bytes into lines
 * and hands each line (or each {@link LogRouter#CHUNK} of a long one) to the router as one LOG
 * frame. Nothing a function prints can reach the frame channel as raw bytes.
 */
public final class LogCapture extends OutputStream {

    private final LogRouter router;
    private final String stream;
    private final byte[] line = new byte[LogRouter.CHUNK];
    private int length;

    public LogCapture(LogRouter router, String stream) {
        this.router = router;
        this.stream = stream;
    }

    @Override
    public synchronized void write(int b) {
        line[length++] = (byte) b;
        if (b == '\n' || length == line.length) {
            drain();
        }
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            line[length++] = b[i];
            if (b[i] == '\n' || length == line.length) {
                drain();
            }
        }
    }

    /** Sends a partial line; called by {@code PrintStream.flush} and at the end of a call. */
    @Override
    public synchronized void flush() {
        if (length > 0) {
            drain();
        }
    }

    private void drain() {
        router.emit(stream, line, 0, length);
        length = 0;
    }
}
