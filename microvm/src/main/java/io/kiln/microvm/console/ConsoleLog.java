package io.kiln.microvm.console;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.function.Consumer;

/**
 * A guest's console output, split into lines: each line goes to a sink (the platform's log)
 * and the last few are kept for error messages ("the guest never became ready; its console
 * ended with ...").
 *
 * <p>A guest controls these bytes, so nothing here trusts them: a line without a newline is
 * cut at {@link #MAX_LINE} bytes, control characters other than tab are dropped, and the
 * kept tail is bounded. One thread feeds it; any thread may read the tail.
 */
public final class ConsoleLog {

    public static final int MAX_LINE = 4096;

    private final Consumer<String> sink;
    private final int tailLines;
    private final ArrayDeque<String> tail;
    private final byte[] line = new byte[MAX_LINE];
    private int lineLength;

    public ConsoleLog(Consumer<String> sink, int tailLines) {
        if (tailLines < 1) {
            throw new IllegalArgumentException("tailLines must be positive");
        }
        this.sink = sink;
        this.tailLines = tailLines;
        this.tail = new ArrayDeque<>(tailLines);
    }

    /** Feeds console bytes as they arrive; complete lines are emitted at once. */
    public void accept(byte[] bytes, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            byte b = bytes[i];
            if (b == '\n') {
                emit();
            } else if (b == '\t' || (b & 0xff) >= 0x20 && b != 0x7f) {
                line[lineLength++] = b;
                if (lineLength == MAX_LINE) {
                    emit();
                }
            }
        }
    }

    /** Emits a final line without its newline, e.g. when the guest stops. */
    public void flush() {
        if (lineLength > 0) {
            emit();
        }
    }

    private void emit() {
        String text = new String(line, 0, lineLength, StandardCharsets.UTF_8);
        lineLength = 0;
        synchronized (tail) {
            if (tail.size() == tailLines) {
                tail.removeFirst();
            }
            tail.addLast(text);
        }
        sink.accept(text);
    }

    /** The last lines seen, oldest first. */
    public List<String> tail() {
        synchronized (tail) {
            return List.copyOf(tail);
        }
    }

    /** The tail as one indented block, for exception messages. */
    public String tailText() {
        List<String> lines = tail();
        if (lines.isEmpty()) {
            return "    (the console printed nothing)";
        }
        StringBuilder sb = new StringBuilder();
        for (String l : lines) {
            sb.append("    | ").append(l).append('\n');
        }
        return sb.toString();
    }
}
