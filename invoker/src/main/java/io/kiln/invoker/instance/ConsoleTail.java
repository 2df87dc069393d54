package io.kiln.invoker.instance;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * An instance's console: every line goes to the log sink, the last few are kept to explain a
 * crash ("the guest stopped; its console ended with: Kernel panic ...").
 */
public final class ConsoleTail implements Consumer<String> {

    private static final int KEEP = 40;

    private final long instanceId;
    private final LogSink sink;
    private final ArrayDeque<String> lines = new ArrayDeque<>(KEEP);

    public ConsoleTail(long instanceId, LogSink sink) {
        this.instanceId = instanceId;
        this.sink = sink;
    }

    @Override
    public void accept(String line) {
        synchronized (lines) {
            if (lines.size() == KEEP) {
                lines.removeFirst();
            }
            lines.addLast(line);
        }
        sink.console(instanceId, line);
    }

    public String text() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }
}
