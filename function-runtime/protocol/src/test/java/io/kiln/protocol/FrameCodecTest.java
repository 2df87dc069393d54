package io.kiln.protocol;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrameCodecTest {

    private final FrameCodec codec = new FrameCodec();
    private static final HexFormat HEX = HexFormat.of();

    private static byte[] hex(String s) {
        return HEX.parseHex(s.replace(" ", ""));
    }

    private static InputStream in(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            all.writeBytes(p);
        }
        return new ByteArrayInputStream(all.toByteArray());
    }

    private ProtocolException fails(byte[] bytes) {
        return assertThrows(ProtocolException.class, () -> codec.read(in(bytes)));
    }

    // ---- exact bytes -----------------------------------------------------------------------

    @Test
    void readyEncodesToTheSpecifiedBytes() throws IOException {
        String meta = "{\"protocol\":1,\"agent\":\"0.1.0\",\"java\":\"17.0.15\"}";
        byte[] bytes = codec.encode(new ReadyFrame(meta));
        assertEquals("4b4c" + "01" + "01" + "0000000000000000" + "0000002f" + "00000000"
                + HEX.formatHex(meta.getBytes(StandardCharsets.UTF_8)), HEX.formatHex(bytes));
    }

    @Test
    void invokeEncodesCallIdAndLengthsBigEndian() throws IOException {
        byte[] bytes = codec.encode(new InvokeFrame(0x0102030405060708L, "{}", new byte[]{9, 8, 7}));
        assertArrayEquals(hex("4b4c 01 05 0102030405060708 00000002 00000003 7b7d 090807"), bytes);
    }

    @Test
    void everyTypeHasItsCode() throws IOException {
        List<Frame> frames = List.of(new ReadyFrame(""), new LoadFrame("", null),
                new InitializedFrame(""), new RestoredFrame("", null),
                new InvokeFrame(1, "", null), new ResultFrame(1, "", null),
                new ErrorFrame(0, "", null), new LogFrame(0, "", null), new ShutdownFrame(""));
        for (int i = 0; i < frames.size(); i++) {
            byte[] b = codec.encode(frames.get(i));
            assertEquals(20, b.length);
            assertEquals(i + 1, b[3], frames.get(i).toString());
            assertEquals(frames.get(i).type(), FrameType.ofCode(i + 1));
        }
    }

    @Test
    void decodesExactBytesToRecords() throws IOException {
        Frame f = codec.read(in(hex("4b4c 01 08 00000000000000ff 00000010 00000002"),
                "{\"stream\":\"out\"}".getBytes(StandardCharsets.UTF_8), hex("6869")));
        assertEquals(new LogFrame(255, "{\"stream\":\"out\"}",
                "hi".getBytes(StandardCharsets.UTF_8)), f);
    }

    @Test
    void callIdIsUnsigned64() throws IOException {
        InvokeFrame max = new InvokeFrame(-1L, "", new byte[0]);
        byte[] b = codec.encode(max);
        assertEquals("ffffffffffffffff", HEX.formatHex(b, 4, 12));
        assertEquals(max, codec.read(in(b)));
        assertTrue(max.toString().contains("call=18446744073709551615"), max.toString());
    }

    @Test
    void roundTripsEveryTypeBackToBack() throws IOException {
        List<Frame> frames = List.of(new ReadyFrame("{\"protocol\":1}"),
                new LoadFrame("{\"handler\":\"a.B\"}", new byte[]{1, 2}),
                new InitializedFrame("{\"initMs\":3}"),
                new RestoredFrame("{\"epochMs\":1}", new byte[32]),
                new InvokeFrame(7, "{\"timeoutMs\":5}", "ü".getBytes(StandardCharsets.UTF_8)),
                new ResultFrame(7, "", new byte[70_000]),
                new ErrorFrame(7, "{\"code\":\"x\"}", null),
                new LogFrame(7, "{\"stream\":\"stdout\"}", new byte[]{'\n'}),
                new ShutdownFrame(""));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Frame f : frames) {
            codec.write(out, f);
        }
        InputStream in = in(out.toByteArray());
        for (Frame f : frames) {
            assertEquals(f, codec.read(in));
        }
        assertThrows(EOFException.class, () -> codec.read(in));
    }

    @Test
    void emptyStreamIsACleanEnd() {
        // An EOFException, not a ProtocolException (the two types are unrelated).
        EOFException e = assertThrows(EOFException.class, () -> codec.read(in()));
        assertEquals("stream closed between frames", e.getMessage());
    }

    // ---- every malformed header ------------------------------------------------------------

    @Test
    void badMagic() {
        ProtocolException e = fails(hex("584c 01 05 0000000000000001 00000000 00000000"));
        assertEquals(ProtocolException.Reason.BAD_MAGIC, e.reason());
        assertEquals("bad magic 0x584C, expected 0x4B4C", e.getMessage());
        assertFalse(e.recoverable());
        assertTrue(e.header().isEmpty());

        assertEquals("bad magic 0x4B58, expected 0x4B4C", fails(hex("4b58 0105")).getMessage());
        // Garbage is reported as soon as it is seen, not as a truncated header.
        assertEquals("bad magic 0x47, expected 0x4B4C", fails(hex("47")).getMessage());
        assertEquals("bad_magic", e.reason().code());
    }

    @Test
    void wrongVersion() {
        for (int v : new int[]{0, 2, 255}) {
            ProtocolException e = fails(Raw.header(0x4B, 0x4C, v, 5, 1, 0, 0));
            assertEquals(ProtocolException.Reason.UNSUPPORTED_VERSION, e.reason());
            assertEquals("protocol version " + v + " not supported, this side speaks 1",
                    e.getMessage());
            assertFalse(e.recoverable());
        }
    }

    @Test
    void unknownTypeIsSkippable() throws IOException {
        for (int t : new int[]{0, 10, 255}) {
            InputStream s = in(Raw.header(0x4B, 0x4C, 1, t, 3, 2, 1), hex("7b7d 00"),
                    codec.encode(new ShutdownFrame("")));
            ProtocolException e = assertThrows(ProtocolException.class, () -> codec.read(s));
            assertEquals(ProtocolException.Reason.UNKNOWN_TYPE, e.reason());
            assertEquals("unknown frame type " + t, e.getMessage());
            assertTrue(e.recoverable());
            assertEquals(new FrameHeader(1, t, null, 3, 2, 1), e.header().orElseThrow());
            assertEquals(3, e.callId());
            codec.discard(s, e);
            assertEquals(new ShutdownFrame(""), codec.read(s));
        }
    }

    @Test
    void truncatedHeaderAtEveryLength() throws IOException {
        byte[] full = codec.encode(new InvokeFrame(1, "", new byte[0]));
        for (int n = 1; n < FrameCodec.HEADER_SIZE; n++) {
            byte[] prefix = java.util.Arrays.copyOf(full, n);
            ProtocolException e = fails(prefix);
            assertEquals(ProtocolException.Reason.TRUNCATED, e.reason(), "prefix " + n);
            assertEquals("stream ended inside a frame header", e.getMessage());
            assertFalse(e.recoverable());
        }
    }

    @Test
    void truncatedPayload() {
        ProtocolException e = fails(Raw.frame(5, 1, 5, 5, new byte[7]));
        assertEquals(ProtocolException.Reason.TRUNCATED, e.reason());
        assertEquals("stream ended inside the payload of a INVOKE frame", e.getMessage());
        assertFalse(e.recoverable());
        assertEquals(1, e.callId());
    }

    @Test
    void callIdRules() {
        ProtocolException e = fails(Raw.header(0x4B, 0x4C, 1, 1, 1, 0, 0));
        assertEquals(ProtocolException.Reason.BAD_CALL_ID, e.reason());
        assertEquals("READY with call id 1 (must be ZERO)", e.getMessage());
        assertTrue(e.recoverable());
        assertEquals("INVOKE with call id 0 (must be NON_ZERO)",
                fails(Raw.header(0x4B, 0x4C, 1, 5, 0, 0, 0)).getMessage());
        assertEquals("RESULT with call id 0 (must be NON_ZERO)",
                fails(Raw.header(0x4B, 0x4C, 1, 6, 0, 0, 0)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new InvokeFrame(0, "", null));
        assertThrows(IllegalArgumentException.class, () -> new ResultFrame(0, "", null));
    }

    @Test
    void oversizedIsRejectedFromTheHeaderAlone() {
        // Nothing follows the header: the cap is judged before any payload byte is wanted.
        ProtocolException e = fails(Raw.header(0x4B, 0x4C, 1, 5, 4, 262_145, 0));
        assertEquals(ProtocolException.Reason.OVERSIZED, e.reason());
        assertEquals("INVOKE metadata of 262145 bytes over the cap of 262144", e.getMessage());
        assertTrue(e.recoverable());

        e = fails(Raw.header(0x4B, 0x4C, 1, 5, 4, 0, 16 * 1024 * 1024 + 1));
        assertEquals("INVOKE body of 16777217 bytes over the cap of 16777216", e.getMessage());
        e = fails(Raw.header(0x4B, 0x4C, 1, 1, 0, 0, 1));
        assertEquals("READY body of 1 bytes over the cap of 0", e.getMessage());
        // u32 lengths: 0xFFFFFFFF is 4 GiB, not -1.
        e = fails(Raw.header(0x4B, 0x4C, 1, 2, 0, 0, -1));
        assertEquals("LOAD body of 4294967295 bytes over the cap of 268435456", e.getMessage());
    }

    @Test
    void claimedLengthIsNotAllocatedUpFront() {
        // 200 MiB claimed (under the LOAD cap), 10 bytes sent: the codec must read in chunks.
        Probe probe = new Probe(in(Raw.header(0x4B, 0x4C, 1, 2, 0, 0, 200 << 20), new byte[10]));
        ProtocolException e = assertThrows(ProtocolException.class, () -> codec.read(probe));
        assertEquals(ProtocolException.Reason.TRUNCATED, e.reason());
        assertTrue(probe.largestRequest <= FrameCodec.FIRST_CHUNK, "asked for " + probe.largestRequest);
    }

    @Test
    void badUtf8MetadataConsumesTheFrame() throws IOException {
        InputStream s = in(Raw.frame(8, 2, 2, 1, hex("c328 41")), codec.encode(new ShutdownFrame("")));
        ProtocolException e = assertThrows(ProtocolException.class, () -> codec.read(s));
        assertEquals(ProtocolException.Reason.BAD_METADATA, e.reason());
        assertEquals("LOG metadata is not valid UTF-8", e.getMessage());
        assertTrue(e.recoverable());
        codec.discard(s, e); // nothing left to skip
        assertEquals(new ShutdownFrame(""), codec.read(s));
    }

    @Test
    void discardRefusesFatalErrorsAndReportsTruncation() throws IOException {
        ProtocolException fatal = fails(hex("0000"));
        assertThrows(IllegalArgumentException.class, () -> codec.discard(in(), fatal));

        InputStream s = in(Raw.header(0x4B, 0x4C, 1, 77, 0, 10, 10), new byte[5]);
        ProtocolException e = assertThrows(ProtocolException.class, () -> codec.read(s));
        ProtocolException t = assertThrows(ProtocolException.class, () -> codec.discard(s, e));
        assertEquals(ProtocolException.Reason.TRUNCATED, t.reason());
    }

    @Test
    void writerEnforcesTheCapsAndWritesNothingThen() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        FrameCodec small = new FrameCodec(Limits.DEFAULT.withMaxBody(FrameType.RESULT, 4)
                .withMaxMetadata(8));
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> small.write(out, new ResultFrame(1, "", new byte[5])));
        assertEquals(ProtocolException.Reason.OVERSIZED, e.reason());
        assertEquals("RESULT body of 5 bytes over the cap of 4", e.getMessage());
        e = assertThrows(ProtocolException.class,
                () -> small.write(out, new ResultFrame(1, "{\"a\":123}", new byte[0])));
        assertEquals("RESULT metadata of 9 bytes over the cap of 8", e.getMessage());
        assertEquals(0, out.size());
    }

    @Test
    void limitsAreCompleteAndCopied() {
        assertEquals(256 * 1024 * 1024, Limits.DEFAULT.maxBody(FrameType.LOAD));
        assertEquals(0, Limits.DEFAULT.maxBody(FrameType.SHUTDOWN));
        assertThrows(IllegalArgumentException.class,
                () -> new Limits(1, java.util.Map.of(FrameType.READY, 0)));
        assertEquals(5, Limits.DEFAULT.withMaxBody(FrameType.LOG, 5).maxBody(FrameType.LOG));
        assertEquals(64 * 1024, Limits.DEFAULT.maxBody(FrameType.LOG));
    }

    /** Records the largest read a codec asks for: a proxy for the buffer it allocated. */
    private static final class Probe extends InputStream {
        private final InputStream in;
        int largestRequest;

        Probe(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            largestRequest = Math.max(largestRequest, len);
            return in.read(b, off, len);
        }
    }
}
