package io.kiln.invoker.instance;

/** Where an instance's output goes: LOG frames from the agent and the guest's console. */
public interface LogSink {

    /** A LOG frame: {@code callId} 0 for init, restore and idle time. Bytes are untrusted. */
    void log(long instanceId, long callId, String stream, byte[] bytes);

    /** One console line, already made safe by {@code ConsoleLog}. */
    void console(long instanceId, String line);

    LogSink NONE = new LogSink() {
        @Override
        public void log(long instanceId, long callId, String stream, byte[] bytes) {
        }

        @Override
        public void console(long instanceId, String line) {
        }
    };
}
