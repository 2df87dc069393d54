package io.kiln.microvm.console;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ConsoleLogTest {

    private static void feed(ConsoleLog log, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        log.accept(b, 0, b.length);
    }

    @Test
    void splitsLinesAcrossChunks() {
        List<String> sink = new ArrayList<>();
        ConsoleLog log = new ConsoleLog(sink::add, 10);
        feed(log, "hel");
        feed(log, "lo\r\nwor");
        assertEquals(List.of("hello"), sink);
        feed(log, "ld\n");
        assertEquals(List.of("hello", "world"), sink);
        feed(log, "no newline");
        log.flush();
        assertEquals(List.of("hello", "world", "no newline"), log.tail());
    }

    @Test
    void dropsControlCharactersButKeepsTabsAndUtf8() {
        List<String> sink = new ArrayList<>();
        ConsoleLog log = new ConsoleLog(sink::add, 10);
        feed(log, "\u001b[1mbold\u001b[0m\tx\u0000\u007fé\n");
        assertEquals(List.of("[1mbold[0m\txé"), sink);
    }

    @Test
    void cutsEndlessLinesAndKeepsABoundedTail() {
        List<String> sink = new ArrayList<>();
        ConsoleLog log = new ConsoleLog(sink::add, 3);
        byte[] flood = new byte[ConsoleLog.MAX_LINE * 5 + 7];
        java.util.Arrays.fill(flood, (byte) 'a');
        log.accept(flood, 0, flood.length);
        log.flush();
        assertEquals(6, sink.size());
        assertEquals(ConsoleLog.MAX_LINE, sink.get(0).length());
        assertEquals(7, sink.get(5).length());
        assertEquals(3, log.tail().size());
        assertEquals("aaaaaaa", log.tail().get(2));
    }

    @Test
    void tailTextSaysWhenThereWasNothing() {
        ConsoleLog log = new ConsoleLog(line -> { }, 3);
        assertEquals("    (the console printed nothing)", log.tailText());
        feed(log, "a\nb\n");
        assertEquals("    | a\n    | b\n", log.tailText());
    }
}
