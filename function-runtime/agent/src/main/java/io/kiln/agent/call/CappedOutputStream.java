package io.kiln.agent.call;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Collects a stream handler's output, failing the write that crosses the RESULT cap: a handler
 * writing in a loop must get an IOException, not take the agent down with an OutOfMemoryError.
 */
final class CappedOutputStream extends OutputStream {

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final int cap;

    CappedOutputStream(int cap) {
        this.cap = cap;
    }

    @Override
    public void write(int b) throws IOException {
        check(1);
        bytes.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        check(len);
        bytes.write(b, off, len);
    }

    private void check(int more) throws IOException {
        if ((long) bytes.size() + more > cap) {
            throw new IOException("output exceeds the result cap of " + cap + " bytes");
        }
    }

    byte[] toByteArray() {
        return bytes.toByteArray();
    }
}
