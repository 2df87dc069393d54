package io.kiln.agent.log;

import java.io.ByteArrayInputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Replaces {@code System.out}, {@code System.err} and {@code System.in} for the whole JVM so
 * that user code can neither write raw bytes onto the frame channel nor read frames meant for
 * the agent. Installed once by {@code Main}; in-process agents (tests, benchmarks) skip it.
 */
public final class StdioCapture {

    private final PrintStream originalOut;
    private final PrintStream originalErr;
    private final LogCapture out;
    private final LogCapture err;

    private StdioCapture(LogRouter router) {
        this.originalOut = System.out;
        this.originalErr = System.err;
        this.out = new LogCapture(router, "stdout");
        this.err = new LogCapture(router, "stderr");
    }

    /** Swaps the standard streams; returns a handle holding the originals. */
    public static StdioCapture install(LogRouter router) {
        StdioCapture c = new StdioCapture(router);
        // No autoflush: it would flush after every print and turn print("a"); print("b\n")
        // into two frames. The capture cuts at newlines itself; partial lines go out on an
        // explicit flush and at the end of every call.
        System.setOut(new PrintStream(c.out, false, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(c.err, false, StandardCharsets.UTF_8));
        System.setIn(new ByteArrayInputStream(new byte[0]));
        return c;
    }

    /** The stderr the process started with: the serial console in the guest. */
    public PrintStream originalErr() {
        return originalErr;
    }

    public PrintStream originalOut() {
        return originalOut;
    }

    /** Sends partial lines, so a call's output precedes its RESULT. */
    public void flush() {
        System.out.flush();
        System.err.flush();
        out.flush();
        err.flush();
    }
}
