package io.kiln.protocol;

import java.io.IOException;
import java.util.Optional;

/**
 * A frame that breaks the protocol. {@link #reason()} says how; {@link #recoverable()} says
 * whether the stream is still usable afterwards (see {@link FrameCodec#discard}).
 */
public final class ProtocolException extends IOException {

    /** What was wrong, with the code used in ERROR frames and in docs/PROTOCOL.md. */
    public enum Reason {
        /** The first two bytes are not "KL": the stream is garbage or out of step. Fatal. */
        BAD_MAGIC("bad_magic", false),
        /** A version this side does not speak; nothing after it can be trusted. Fatal. */
        UNSUPPORTED_VERSION("unsupported_version", false),
        /** The stream ended, or stalled, inside a frame. Fatal. */
        TRUNCATED("truncated_frame", false),
        /** A type code this side does not know; the header is sound, the payload skippable. */
        UNKNOWN_TYPE("unknown_frame_type", true),
        /** A call id the type forbids (0 on INVOKE/RESULT, non-zero on READY, ...). Skippable. */
        BAD_CALL_ID("bad_call_id", true),
        /** A length over the cap; the payload was not read, and is skippable. */
        OVERSIZED("frame_too_large", true),
        /** Metadata that is not UTF-8; the whole frame was consumed. */
        BAD_METADATA("bad_metadata", true);

        private final String code;
        private final boolean recoverable;

        Reason(String code, boolean recoverable) {
            this.code = code;
            this.recoverable = recoverable;
        }

        /** The stable snake_case code for ERROR frames. */
        public String code() {
            return code;
        }
    }

    private final Reason reason;
    private final transient FrameHeader header;
    private final boolean payloadConsumed;

    ProtocolException(Reason reason, FrameHeader header, boolean payloadConsumed, String message) {
        super(message);
        this.reason = reason;
        this.header = header;
        this.payloadConsumed = payloadConsumed;
    }

    /** Thrown by writers: a frame over a cap, nothing written. */
    static ProtocolException oversizedOutgoing(String message) {
        return new ProtocolException(Reason.OVERSIZED, null, true, message);
    }

    public Reason reason() {
        return reason;
    }

    /** The header, when it was read whole. */
    public Optional<FrameHeader> header() {
        return Optional.ofNullable(header);
    }

    /** The call id of the offending frame, or 0 if the header was not read whole. */
    public long callId() {
        return header == null ? 0 : header.callId();
    }

    /**
     * Whether reading may go on: true when the header was sound enough to know where the next
     * frame starts. The caller must then call {@link FrameCodec#discard} before the next read.
     */
    public boolean recoverable() {
        return reason.recoverable && header != null;
    }

    /** Whether the payload has already been consumed (nothing left to discard). */
    boolean payloadConsumed() {
        return payloadConsumed;
    }
}
