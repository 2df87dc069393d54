package io.kiln.agent;

import io.kiln.protocol.Frame;
import io.kiln.protocol.ProtocolException;

import java.io.IOException;

/**
 * What wakes the dispatcher. Every other thread (channel reader, function thread, timer) talks
 * to the dispatcher only through these, so the agent's state has exactly one owner.
 */
sealed interface Event {

    /** A well-formed frame; {@code receivedNanos} starts the call's deadline. */
    record FrameArrived(Frame frame, long receivedNanos) implements Event {
    }

    /** A malformed frame the reader already skipped; the channel is still in step. */
    record FrameRejected(ProtocolException error) implements Event {
    }

    /** A malformed frame after which nothing can be trusted: bad magic, version, truncation. */
    record ChannelBroken(ProtocolException error) implements Event {
    }

    /** A frame has been half-read for longer than the frame timeout: treated as truncated. */
    record ChannelStalled(long stalledMs) implements Event {
    }

    /** The host closed the channel between frames. */
    record ChannelClosed() implements Event {
    }

    /** Reading or writing the channel failed. */
    record ChannelFailed(IOException error) implements Event {
    }

    /** A job on the function thread finished; {@code seq} names it. */
    record JobDone(long seq, JobResult result) implements Event {
    }

    /** A job's deadline passed (it may have finished meanwhile; the dispatcher checks). */
    record JobOverdue(long seq) implements Event {
    }

    /** The JVM is in trouble outside a job (OutOfMemoryError on some other thread). */
    record Fatal(Throwable error) implements Event {
    }
}
