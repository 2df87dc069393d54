package io.kiln.protocol;

/**
 * The closed set of frame types, with their wire codes (header byte 3) and call id rule.
 * Direction is part of the protocol (see docs/PROTOCOL.md) but not of the codec: the codec reads
 * any type in any direction and the endpoints reject what they do not expect.
 */
public enum FrameType {
    /** Agent to host: the agent is up and speaks this protocol. */
    READY(1, CallIdRule.ZERO),
    /** Host to agent: the function's jar and how to run it. */
    LOAD(2, CallIdRule.ZERO),
    /** Agent to host: the function initialised; the host may snapshot now. */
    INITIALIZED(3, CallIdRule.ZERO),
    /** Host to agent after every restore (entropy, clock); agent to host as the acknowledgement. */
    RESTORED(4, CallIdRule.ZERO),
    /** Host to agent: one call. */
    INVOKE(5, CallIdRule.NON_ZERO),
    /** Agent to host: a call's result. */
    RESULT(6, CallIdRule.NON_ZERO),
    /** Either way: something failed; call id 0 when it is not a call's failure. */
    ERROR(7, CallIdRule.ANY),
    /** Agent to host: log output, tagged with the call it happened in (0 outside calls). */
    LOG(8, CallIdRule.ANY),
    /** Host to agent: exit cleanly. */
    SHUTDOWN(9, CallIdRule.ZERO);

    /** Which call ids a frame of this type may carry. */
    public enum CallIdRule {
        /** Not tied to a call: the call id must be 0. */
        ZERO,
        /** Always tied to a call: the call id must not be 0. */
        NON_ZERO,
        /** Either: 0 when not tied to a call. */
        ANY;

        public boolean allows(long callId) {
            return switch (this) {
                case ZERO -> callId == 0;
                case NON_ZERO -> callId != 0;
                case ANY -> true;
            };
        }
    }

    private static final FrameType[] BY_CODE = new FrameType[256];

    static {
        for (FrameType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;
    private final CallIdRule callIdRule;

    FrameType(int code, CallIdRule callIdRule) {
        this.code = code;
        this.callIdRule = callIdRule;
    }

    /** The wire code, 1..9. */
    public int code() {
        return code;
    }

    public CallIdRule callIdRule() {
        return callIdRule;
    }

    /** The type with this wire code, or null if none (the caller reports UNKNOWN_TYPE). */
    public static FrameType ofCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
