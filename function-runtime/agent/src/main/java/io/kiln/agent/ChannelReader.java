package io.kiln.agent;

import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.ProtocolException;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.Consumer;

/**
 * Reads frames on its own thread and posts them to the dispatcher, so the dispatcher never
 * blocks on the channel and can answer a frame while a call runs (e.g. {@code busy}).
 *
 * <p>It also tells the watchdog whether it is stuck inside a frame: a peer that sends half a
 * frame and stops would otherwise block the agent forever. Idle time between frames is normal;
 * only time without progress inside a frame counts.
 */
final class ChannelReader implements Runnable {

    private final BufferedInputStream in;
    private final FrameCodec codec;
    private final Consumer<Event> post;

    /** 0 between frames; otherwise the last time a byte of the current frame arrived. */
    private volatile long lastProgressInFrame;

    ChannelReader(InputStream raw, FrameCodec codec, Consumer<Event> post) {
        this.in = new BufferedInputStream(new Progress(raw), 64 * 1024);
        this.codec = codec;
        this.post = post;
    }

    @Override
    public void run() {
        try {
            while (true) {
                in.mark(1);
                if (in.read() < 0) {
                    post.accept(new Event.ChannelClosed());
                    return;
                }
                in.reset();
                lastProgressInFrame = System.nanoTime();
                try {
                    Frame frame = codec.read(in);
                    lastProgressInFrame = 0;
                    post.accept(new Event.FrameArrived(frame, System.nanoTime()));
                } catch (ProtocolException e) {
                    if (!e.recoverable()) {
                        lastProgressInFrame = 0;
                        post.accept(new Event.ChannelBroken(e));
                        return;
                    }
                    codec.discard(in, e);
                    lastProgressInFrame = 0;
                    post.accept(new Event.FrameRejected(e));
                }
            }
        } catch (ProtocolException e) {
            lastProgressInFrame = 0;
            post.accept(new Event.ChannelBroken(e)); // truncated while discarding
        } catch (IOException e) {
            lastProgressInFrame = 0;
            post.accept(new Event.ChannelFailed(e));
        }
    }

    /** How long the current frame has been without progress, in nanoseconds; 0 if idle. */
    long stalledNanos() {
        long last = lastProgressInFrame;
        return last == 0 ? 0 : System.nanoTime() - last;
    }

    /** Counts arriving bytes as progress. */
    private final class Progress extends FilterInputStream {
        Progress(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            touch(b >= 0 ? 1 : 0);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            touch(n);
            return n;
        }

        private void touch(int n) {
            if (n > 0 && lastProgressInFrame != 0) {
                lastProgressInFrame = System.nanoTime();
            }
        }
    }
}
