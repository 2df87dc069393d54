package io.kiln.protocol;

/**
 * One frame of the host/agent protocol. The set of frames is closed: a {@code switch} over a
 * {@code Frame} is exhaustive, so adding a type breaks every place that must handle it.
 *
 * <p>Every frame has the same three parts on the wire: a call id, a metadata JSON object (kept
 * here as its raw text; this module has no JSON parser, each endpoint parses with its own) and a
 * body of raw bytes. Frame types that have no call id or no body return 0 / an empty array.
 *
 * <p>Frames do not copy their body: a frame owns the array it is given, and neither the caller
 * nor a reader of {@link #body()} may change it. Copying a megabyte per frame twice would
 * dominate the cost of a call.
 */
public sealed interface Frame
        permits ReadyFrame, LoadFrame, InitializedFrame, RestoredFrame, InvokeFrame, ResultFrame,
                ErrorFrame, LogFrame, ShutdownFrame {

    /** A shared empty body; never written to. */
    byte[] NO_BODY = new byte[0];

    FrameType type();

    /** The call this frame belongs to; 0 when none. */
    default long callId() {
        return 0;
    }

    /** The metadata JSON object as text; empty string when absent. */
    String metadata();

    /** The body; empty when absent. */
    default byte[] body() {
        return NO_BODY;
    }
}
