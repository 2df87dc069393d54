package io.kiln.microvm.testing;

import io.kiln.microvm.vm.MicroVm;
import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.InvokeFrame;
import io.kiln.protocol.LogFrame;
import io.kiln.protocol.RestoredFrame;
import io.kiln.protocol.ResultFrame;

import java.io.IOException;

/**
 * The host's side of the agent conversation, for tests and benchmarks that drive a guest
 * directly (the invoker will own this for real): send a frame, then wait for the answer,
 * passing over the LOG frames the protocol allows in between.
 */
public final class AgentFrames {

    private static final FrameCodec CODEC = new FrameCodec();

    private AgentFrames() {
    }

    /** Sends RESTORED with {@code entropy} and the host clock; returns the agent's ack. */
    public static RestoredFrame restored(MicroVm vm, byte[] entropy) throws IOException {
        send(vm, new RestoredFrame("{\"epochMs\":" + System.currentTimeMillis() + "}", entropy));
        return expect(vm, RestoredFrame.class);
    }

    /** Sends INVOKE and returns its RESULT; anything else (an ERROR included) fails. */
    public static ResultFrame invoke(MicroVm vm, long callId, String metadata, byte[] body) throws IOException {
        send(vm, new InvokeFrame(callId, metadata, body));
        ResultFrame result = expect(vm, ResultFrame.class);
        if (result.callId() != callId) {
            throw new IllegalStateException("RESULT for call " + result.callId() + ", expected call " + callId);
        }
        return result;
    }

    public static void send(MicroVm vm, Frame frame) throws IOException {
        CODEC.write(vm.toGuest(), frame);
    }

    /** The next frame that is not a LOG, which must be a {@code type}. */
    public static <T extends Frame> T expect(MicroVm vm, Class<T> type) throws IOException {
        while (true) {
            Frame frame = CODEC.read(vm.fromGuest());
            if (frame instanceof LogFrame) {
                continue;
            }
            if (!type.isInstance(frame)) {
                throw new IllegalStateException("expected " + type.getSimpleName() + ", got " + frame);
            }
            return type.cast(frame);
        }
    }
}
