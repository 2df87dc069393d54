package io.kiln.agent.log;

import io.kiln.agent.FrameSink;
import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.LogFrame;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Lines, chunks and the cap, frame by frame, without an agent. */
class LogRouterTest {

    private final ByteArrayOutputStream channel = new ByteArrayOutputStream();
    private final LogRouter router = new LogRouter(new FrameSink(channel, new FrameCodec(), e -> { }));

    private List<String> frames() throws IOException {
        List<String> out = new ArrayList<>();
        InputStream in = new ByteArrayInputStream(channel.toByteArray());
        FrameCodec codec = new FrameCodec();
        try {
            while (true) {
                Frame f = codec.read(in);
                LogFrame l = (LogFrame) f;
                out.add(l.callId() + " " + l.metadata() + " "
                        + new String(l.body(), StandardCharsets.UTF_8).replace("\n", "\\n"));
            }
        } catch (EOFException end) {
            return out;
        }
    }

    @Test
    void printedLinesBecomeOneFrameEachTaggedWithTheScope() throws IOException {
        PrintStream out = new PrintStream(new LogCapture(router, "stdout"), false,
                StandardCharsets.UTF_8);
        out.println("idle");
        router.enter(42, false);
        out.print("a");
        out.print("b\nc");
        out.flush();
        router.line("log", "from logger");
        assertEquals(List.of("0 {\"stream\":\"stdout\"} idle\\n",
                "42 {\"stream\":\"stdout\"} ab\\n",
                "42 {\"stream\":\"stdout\"} c",
                "42 {\"stream\":\"log\"} from logger\\n"), frames());
    }

    @Test
    void longLinesAreSplitIntoChunks() throws IOException {
        LogCapture capture = new LogCapture(router, "stderr");
        byte[] line = "x".repeat(LogRouter.CHUNK + 10).getBytes(StandardCharsets.UTF_8);
        capture.write(line);
        capture.flush();
        List<String> f = frames();
        assertEquals(2, f.size());
        assertEquals(("0 {\"stream\":\"stderr\"} " + "x".repeat(LogRouter.CHUNK)), f.get(0));
        assertEquals("0 {\"stream\":\"stderr\"} xxxxxxxxxx", f.get(1));
    }

    @Test
    void capSendsThePrefixThenOneNoticeAndTheTranscriptKeepsBoth() throws IOException {
        router.limit(10);
        router.enter(0, true);
        router.line("stdout", "12345678");
        router.line("stdout", "abcdef");
        router.line("stdout", "dropped");
        assertEquals(List.of("0 {\"stream\":\"stdout\"} 12345678\\n",
                "0 {\"stream\":\"stdout\"} a",
                "0 {\"stream\":\"kiln\",\"truncated\":true} kiln: log truncated after 10 bytes\\n"),
                frames());
        assertEquals("12345678\na" + "kiln: log truncated after 10 bytes\n",
                new String(router.transcript(), StandardCharsets.UTF_8));
        router.enter(1, false);
        router.line("stdout", "fresh");
        assertEquals("1 {\"stream\":\"stdout\"} fresh\\n", frames().get(3));
    }
}
