package io.kiln.agent.testing;

import java.io.Closeable;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * Stands in for the served {@code kiln-restore --serve DIR}: makes its two FIFOs in a
 * directory and holds the helper's ends, read-write as the real one does (so no open waits
 * for the other end). The test reads the agent's requests and queues replies by hand.
 */
public final class FakeRestoreHelper implements Closeable {

    private final RandomAccessFile request;
    private final RandomAccessFile reply;

    private FakeRestoreHelper(RandomAccessFile request, RandomAccessFile reply) {
        this.request = request;
        this.reply = reply;
    }

    public static FakeRestoreHelper in(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        for (String name : new String[] {"request", "reply"}) {
            Path fifo = dir.resolve(name);
            Files.deleteIfExists(fifo);
            Process p = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
            if (p.waitFor() != 0) {
                throw new IOException("mkfifo " + fifo + " exited with " + p.exitValue());
            }
        }
        return new FakeRestoreHelper(new RandomAccessFile(dir.resolve("request").toFile(), "rw"),
                new RandomAccessFile(dir.resolve("reply").toFile(), "rw"));
    }

    /** Queues a reply: its 10-byte header in hex, then its message. */
    public void answer(String headerHex, String message) throws IOException {
        reply.write(HexFormat.ofDelimiter(" ").parseHex(headerHex));
        reply.write(message.getBytes(StandardCharsets.UTF_8));
    }

    public void answer(String headerHex) throws IOException {
        answer(headerHex, "");
    }

    /** The next {@code length} bytes the agent wrote. */
    public byte[] request(int length) throws IOException {
        byte[] b = new byte[length];
        request.readFully(b);
        return b;
    }

    @Override
    public void close() throws IOException {
        try (request; reply) {
            // closes both, the first even if closing the second fails
        }
    }
}
