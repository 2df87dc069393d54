package io.kiln.microvm.group;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** Newline-terminated protocol lines read with a hard length bound: the other side may be hostile. */
final class Lines {
    /** Longer than any console line ({@code ConsoleLog.MAX_LINE}) JSON-escaped, shorter than trouble. */
    static final int MAX_LINE = 64 * 1024;

    private Lines() {
    }

    /** The next line without its newline, or null at the end of the stream. */
    static String read(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(256);
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (line.size() > 0) {
                    throw new ProtocolException("the stream ended inside a line");
                }
                return null;
            }
            if (b == '\n') {
                return line.toString(StandardCharsets.UTF_8);
            }
            if (line.size() == MAX_LINE) {
                throw new ProtocolException("a line longer than " + MAX_LINE + " bytes");
            }
            line.write(b);
        }
    }
}
