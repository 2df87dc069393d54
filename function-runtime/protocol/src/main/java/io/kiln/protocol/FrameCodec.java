package io.kiln.protocol;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads and writes frames. Stateless and thread-safe; callers serialise access to one stream.
 *
 * <p>Wire header, big-endian, 20 bytes:
 * <pre>
 * offset size field
 * 0      2    magic 0x4B 0x4C ("KL")
 * 2      1    protocol version (1)
 * 3      1    frame type (READY=1 .. SHUTDOWN=9)
 * 4      8    call id (u64; 0 for frames not tied to a call)
 * 12     4    metadata length (u32, UTF-8 JSON object, may be 0)
 * 16     4    body length (u32, raw bytes, may be 0)
 * 20     ...  metadata bytes, then body bytes
 * </pre>
 *
 * <p>Reading never trusts a length: it is checked against {@link Limits} first, and even an
 * allowed length is allocated only up to 1 MiB before its bytes arrive; beyond that the buffer
 * grows as they do, so a peer that claims 256 MiB and sends 10 bytes costs 1 MiB.
 *
 * <p>Pass buffered streams: the reader reads the header in two small reads.
 */
public final class FrameCodec {

    public static final int HEADER_SIZE = 20;
    public static final byte MAGIC_0 = 0x4B; // 'K'
    public static final byte MAGIC_1 = 0x4C; // 'L'
    public static final int VERSION = 1;

    /**
     * The most a claimed length allocates before its bytes arrive: the buffer starts at
     * {@code min(length, FIRST_CHUNK)} and doubles as data comes in. Payloads up to 1 MiB are
     * read into one exact buffer; a claim of 200 MiB backed by 10 bytes costs 1 MiB, not 200.
     */
    static final int FIRST_CHUNK = 1024 * 1024;
    /** Bodies up to this size go out in the same write as their header. */
    private static final int ONE_WRITE = 64 * 1024;

    private final Limits limits;

    public FrameCodec() {
        this(Limits.DEFAULT);
    }

    public FrameCodec(Limits limits) {
        this.limits = limits;
    }

    public Limits limits() {
        return limits;
    }

    /**
     * Reads one frame.
     *
     * @throws EOFException       if the stream ended cleanly, before the first byte of a frame
     * @throws ProtocolException  if the frame breaks the protocol; see {@link #discard} to go on
     * @throws IOException        if reading failed
     */
    public Frame read(InputStream in) throws IOException {
        FrameHeader header = readHeader(in);
        return readPayload(in, header);
    }

    /**
     * Reads and judges a header: magic and version as soon as their 4 bytes are in (so garbage
     * is reported without waiting for 16 more bytes), then the call id rule and the caps.
     */
    public FrameHeader readHeader(InputStream in) throws IOException {
        byte[] h = new byte[HEADER_SIZE];
        int got = readUpTo(in, h, 0, 4);
        if (got == 0) {
            throw new EOFException("stream closed between frames");
        }
        if (h[0] != MAGIC_0 || (got > 1 && h[1] != MAGIC_1)) {
            throw new ProtocolException(ProtocolException.Reason.BAD_MAGIC, null, false,
                    String.format("bad magic 0x%02X%s, expected 0x4B4C", h[0] & 0xff,
                            got > 1 ? String.format("%02X", h[1] & 0xff) : ""));
        }
        if (got > 2 && (h[2] & 0xff) != VERSION) {
            throw new ProtocolException(ProtocolException.Reason.UNSUPPORTED_VERSION, null, false,
                    "protocol version " + (h[2] & 0xff) + " not supported, this side speaks "
                            + VERSION);
        }
        if (got < 4 || readUpTo(in, h, 4, HEADER_SIZE - 4) < HEADER_SIZE - 4) {
            throw new ProtocolException(ProtocolException.Reason.TRUNCATED, null, false,
                    "stream ended inside a frame header");
        }
        ByteBuffer b = ByteBuffer.wrap(h); // big-endian by default
        int typeCode = h[3] & 0xff;
        FrameType type = FrameType.ofCode(typeCode);
        FrameHeader header = new FrameHeader(VERSION, typeCode, type, b.getLong(4),
                Integer.toUnsignedLong(b.getInt(12)), Integer.toUnsignedLong(b.getInt(16)));
        if (type == null) {
            throw new ProtocolException(ProtocolException.Reason.UNKNOWN_TYPE, header, false,
                    "unknown frame type " + typeCode);
        }
        if (!type.callIdRule().allows(header.callId())) {
            throw new ProtocolException(ProtocolException.Reason.BAD_CALL_ID, header, false,
                    type + " with call id " + Long.toUnsignedString(header.callId())
                            + " (must be " + type.callIdRule() + ")");
        }
        if (header.metadataLength() > limits.maxMetadata()) {
            throw new ProtocolException(ProtocolException.Reason.OVERSIZED, header, false,
                    type + " metadata of " + header.metadataLength() + " bytes over the cap of "
                            + limits.maxMetadata());
        }
        if (header.bodyLength() > limits.maxBody(type)) {
            throw new ProtocolException(ProtocolException.Reason.OVERSIZED, header, false,
                    type + " body of " + header.bodyLength() + " bytes over the cap of "
                            + limits.maxBody(type));
        }
        return header;
    }

    /** Reads the payload of a header that {@link #readHeader} accepted, and builds the frame. */
    public Frame readPayload(InputStream in, FrameHeader header) throws IOException {
        // Both lengths were checked against int caps, so the casts are exact.
        byte[] meta = readExactly(in, (int) header.metadataLength(), header);
        byte[] body = readExactly(in, (int) header.bodyLength(), header);
        String metadata = decodeUtf8(meta, header);
        long id = header.callId();
        return switch (header.type()) {
            case READY -> new ReadyFrame(metadata);
            case LOAD -> new LoadFrame(metadata, body);
            case INITIALIZED -> new InitializedFrame(metadata);
            case RESTORED -> new RestoredFrame(metadata, body);
            case INVOKE -> new InvokeFrame(id, metadata, body);
            case RESULT -> new ResultFrame(id, metadata, body);
            case ERROR -> new ErrorFrame(id, metadata, body);
            case LOG -> new LogFrame(id, metadata, body);
            case SHUTDOWN -> new ShutdownFrame(metadata);
        };
    }

    /**
     * After a {@linkplain ProtocolException#recoverable() recoverable} exception, skips what is
     * left of the offending frame so the next read starts at the next header. Skips without
     * allocating anything the size of the payload.
     *
     * @throws IllegalArgumentException if the exception is not recoverable
     * @throws ProtocolException        TRUNCATED if the stream ends inside the payload
     */
    public void discard(InputStream in, ProtocolException e) throws IOException {
        if (!e.recoverable()) {
            throw new IllegalArgumentException("cannot resynchronise after " + e.reason(), e);
        }
        if (e.payloadConsumed()) {
            return;
        }
        FrameHeader header = e.header().orElseThrow();
        long left = header.payloadLength();
        byte[] scratch = new byte[(int) Math.min(left, 8192)];
        while (left > 0) {
            int n = in.read(scratch, 0, (int) Math.min(left, scratch.length));
            if (n < 0) {
                throw truncated(header);
            }
            left -= n;
        }
    }

    /** Writes one frame and flushes. Checks the caps first: nothing is written if one fails. */
    public void write(OutputStream out, Frame frame) throws IOException {
        byte[] meta = frame.metadata().getBytes(StandardCharsets.UTF_8);
        byte[] body = frame.body();
        byte[] head = header(frame, meta, body);
        // One write for small frames (one syscall, one virtio buffer); big bodies go separately
        // rather than being copied into a second array.
        if (body.length <= ONE_WRITE) {
            byte[] all = Arrays.copyOf(head, head.length + body.length);
            System.arraycopy(body, 0, all, head.length, body.length);
            out.write(all);
        } else {
            out.write(head);
            out.write(body);
        }
        out.flush();
    }

    /** The frame's bytes, exactly as {@link #write} sends them. */
    public byte[] encode(Frame frame) throws ProtocolException {
        byte[] meta = frame.metadata().getBytes(StandardCharsets.UTF_8);
        byte[] head = header(frame, meta, frame.body());
        byte[] all = Arrays.copyOf(head, head.length + frame.body().length);
        System.arraycopy(frame.body(), 0, all, head.length, frame.body().length);
        return all;
    }

    /** Header followed by metadata. */
    private byte[] header(Frame frame, byte[] meta, byte[] body) throws ProtocolException {
        if (meta.length > limits.maxMetadata()) {
            throw ProtocolException.oversizedOutgoing(frame.type() + " metadata of " + meta.length
                    + " bytes over the cap of " + limits.maxMetadata());
        }
        if (body.length > limits.maxBody(frame.type())) {
            throw ProtocolException.oversizedOutgoing(frame.type() + " body of " + body.length
                    + " bytes over the cap of " + limits.maxBody(frame.type()));
        }
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE + meta.length);
        b.put(MAGIC_0).put(MAGIC_1).put((byte) VERSION).put((byte) frame.type().code())
                .putLong(frame.callId()).putInt(meta.length).putInt(body.length).put(meta);
        return b.array();
    }

    private static byte[] readExactly(InputStream in, int length, FrameHeader header)
            throws IOException {
        if (length == 0) {
            return Frame.NO_BODY;
        }
        byte[] buf = new byte[Math.min(length, FIRST_CHUNK)];
        int filled = 0;
        while (filled < length) {
            if (filled == buf.length) {
                buf = Arrays.copyOf(buf, (int) Math.min(length, 2L * buf.length));
            }
            int n = in.read(buf, filled, buf.length - filled);
            if (n < 0) {
                throw truncated(header);
            }
            filled += n;
        }
        return buf;
    }

    private static ProtocolException truncated(FrameHeader header) {
        return new ProtocolException(ProtocolException.Reason.TRUNCATED, header, false,
                "stream ended inside the payload of a " + header.type() + " frame");
    }

    /** Reads up to {@code len} bytes, fewer only at end of stream; returns the count read. */
    private static int readUpTo(InputStream in, byte[] buf, int off, int len) throws IOException {
        int total = 0;
        while (total < len) {
            int n = in.read(buf, off + total, len - total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    private static String decodeUtf8(byte[] bytes, FrameHeader header) throws ProtocolException {
        if (bytes.length == 0) {
            return "";
        }
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolException(ProtocolException.Reason.BAD_METADATA, header, true,
                    header.type() + " metadata is not valid UTF-8");
        }
    }
}
