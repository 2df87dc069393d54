package io.kiln.agent.restore;

import java.io.Closeable;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.locks.LockSupport;

/**
 * The agent's end of the served {@code kiln-restore} ({@code kiln-restore --serve DIR}, which
 * the guest's init starts before the agent): one request and one reply per restore over the
 * FIFOs {@code DIR/request} and {@code DIR/reply}, instead of a process start. The wire format
 * is defined in {@code kiln-restore.c}; {@link #encode} and {@link #parse} are its Java side.
 *
 * <p>Both FIFOs are opened read-write, as the helper opens them: on Linux that never waits for
 * the other end, so a missing helper cannot hang the agent at open. A dead or silent helper
 * shows as no reply before the deadline instead; replies are awaited by polling
 * {@code available()} (FIONREAD), because a blocking read on a FIFO cannot be interrupted.
 * Each request carries an id the reply echoes, so a late reply to an earlier request is
 * passed over rather than taken for this one.
 */
public final class ServedHelper implements Closeable {

    static final int VERSION = 1;
    static final int FLAG_SET_CLOCK = 1;
    static final int HEADER = 18;
    static final int REPLY_HEADER = 10;
    static final int MIN_ENTROPY = 16;
    static final int MAX_ENTROPY = 4096;
    static final int MAX_MESSAGE = 240;
    /** Between two looks at the reply FIFO. */
    private static final long POLL_NANOS = 200_000;

    /** A reply: {@code status} 0 is success; otherwise {@code message} says what failed. */
    public record Reply(int status, int id, String message) {
    }

    /** The helper broke the exchange: no reply in time, or bytes that are not a reply. */
    public static final class HelperException extends IOException {
        HelperException(String message) {
            super(message);
        }
    }

    private final Path dir;
    private final RandomAccessFile request;
    private final RandomAccessFile reply;
    private final FileOutputStream out;
    private final FileInputStream in;
    private int nextId = 1;

    private ServedHelper(Path dir, RandomAccessFile request, RandomAccessFile reply) throws IOException {
        this.dir = dir;
        this.request = request;
        this.reply = reply;
        this.out = new FileOutputStream(request.getFD());
        this.in = new FileInputStream(reply.getFD());
    }

    /**
     * Opens the helper's FIFOs in {@code dir}, or returns null if there are none (no helper
     * was started: host-mode tests, an image without it).
     */
    public static ServedHelper open(Path dir) throws IOException {
        if (dir == null) {
            return null;
        }
        Path request = dir.resolve("request");
        Path reply = dir.resolve("reply");
        // "rw" would create a plain file where a FIFO is missing.
        if (!isFifo(request) || !isFifo(reply)) {
            return null;
        }
        RandomAccessFile req = new RandomAccessFile(request.toFile(), "rw");
        try {
            return new ServedHelper(dir, req, new RandomAccessFile(reply.toFile(), "rw"));
        } catch (IOException e) {
            req.close();
            throw e;
        }
    }

    private static boolean isFifo(Path p) {
        try {
            int mode = (Integer) Files.getAttribute(p, "unix:mode");
            return (mode & 0170000) == 0010000; // S_IFMT, S_IFIFO
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    public Path dir() {
        return dir;
    }

    /**
     * One request: reseed from {@code entropy} and, unless {@code epochMillis} is null, set
     * the clock. Returns the helper's reply (which may report a failure of the work itself);
     * throws {@link HelperException} if no well-formed reply to this request came within
     * {@code timeoutMillis}.
     */
    public Reply call(byte[] entropy, Long epochMillis, long timeoutMillis) throws IOException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        int id = nextId++;
        out.write(encode(id, epochMillis, entropy));
        while (true) {
            byte[] header = readFully(REPLY_HEADER, deadline, timeoutMillis, 0);
            int length = ((header[8] & 0xff) << 8) | (header[9] & 0xff);
            if (header[0] != 'K' || header[1] != 'R' || header[2] != VERSION || length > MAX_MESSAGE) {
                throw new HelperException("the served kiln-restore in " + dir + " answered garbage: "
                        + HexFormat.ofDelimiter(" ").formatHex(header));
            }
            byte[] message = readFully(length, deadline, timeoutMillis, REPLY_HEADER);
            Reply r = parse(header, message);
            if (r.id() == id || r.id() == 0) {
                // Id 0: the helper could not read the request. Ours is the only one in flight.
                return r;
            }
            // A late reply to an earlier request that timed out: not ours.
        }
    }

    private byte[] readFully(int n, long deadline, long timeoutMillis, int before) throws IOException {
        byte[] b = new byte[n];
        int got = 0;
        while (got < n) {
            int ready = in.available();
            if (ready > 0) {
                int r = in.read(b, got, Math.min(ready, n - got));
                if (r < 0) {
                    throw new HelperException("the served kiln-restore in " + dir + " closed its reply FIFO");
                }
                got += r;
                continue;
            }
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted waiting for the served kiln-restore");
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new HelperException("the served kiln-restore in " + dir + " did not answer within "
                        + timeoutMillis + " ms (" + (before + got) + " bytes of a reply)");
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
        return b;
    }

    /** The request bytes: see {@code kiln-restore.c}. */
    static byte[] encode(int id, Long epochMillis, byte[] entropy) {
        if (entropy.length < MIN_ENTROPY || entropy.length > MAX_ENTROPY) {
            throw new IllegalArgumentException(entropy.length + " bytes of entropy, want "
                    + MIN_ENTROPY + " to " + MAX_ENTROPY);
        }
        return ByteBuffer.allocate(HEADER + entropy.length) // big-endian, as the frame protocol
                .put((byte) 'K').put((byte) 'R').put((byte) VERSION)
                .put((byte) (epochMillis == null ? 0 : FLAG_SET_CLOCK))
                .putInt(id)
                .putLong(epochMillis == null ? 0 : epochMillis)
                .putShort((short) entropy.length)
                .put(entropy)
                .array();
    }

    /** A reply from its 10-byte header and its message bytes (already length-checked). */
    static Reply parse(byte[] header, byte[] message) {
        int status = header[3] & 0xff;
        int id = ByteBuffer.wrap(header, 4, 4).getInt();
        return new Reply(status, id, new String(message, StandardCharsets.UTF_8).strip());
    }

    @Override
    public void close() throws IOException {
        try {
            request.close();
        } finally {
            reply.close();
        }
    }
}
