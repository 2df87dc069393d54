package io.kiln.agent;

import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.ProtocolException;

import java.io.IOException;
import java.io.OutputStream;
import java.util.function.Consumer;

/**
 * The only writer of the channel. Frames come from several threads (the dispatcher, the
 * function thread's log lines, user threads printing), so one lock keeps each frame whole.
 */
public final class FrameSink {

    private final OutputStream out;
    private final FrameCodec codec;
    private final Consumer<IOException> onFailure;
    private boolean broken;

    /** @param onFailure called once, outside the lock, with the error, when the channel cannot be written */
    public FrameSink(OutputStream out, FrameCodec codec, Consumer<IOException> onFailure) {
        this.out = out;
        this.codec = codec;
        this.onFailure = onFailure;
    }

    /**
     * Sends one frame.
     *
     * @return false if the channel is broken (the frame is lost; {@code onFailure} has run)
     * @throws ProtocolException if the frame is over a cap; nothing was written
     */
    public boolean send(Frame frame) throws ProtocolException {
        IOException failure;
        synchronized (this) {
            if (broken) {
                return false;
            }
            try {
                codec.write(out, frame);
                return true;
            } catch (ProtocolException e) {
                throw e;
            } catch (IOException e) {
                broken = true;
                failure = e;
            }
        }
        onFailure.accept(failure);
        return false;
    }

    /** Sends a frame known to be within the caps (agent-built control frames). */
    public boolean sendSmall(Frame frame) {
        try {
            return send(frame);
        } catch (ProtocolException e) {
            throw new IllegalStateException("agent built an oversized " + frame.type(), e);
        }
    }

    public synchronized boolean broken() {
        return broken;
    }
}
