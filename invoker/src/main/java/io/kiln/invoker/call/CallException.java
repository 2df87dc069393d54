package io.kiln.invoker.call;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Duration;

/**
 * A call that produced no result. {@code code} is stable and documented (docs/ARCHITECTURE.md,
 * "Call errors"); the gateway maps it to an HTTP status.
 *
 * @see Codes
 */
public final class CallException extends RuntimeException {

    /** The codes the invoker itself produces; agent codes (function_error, ...) pass through. */
    public static final class Codes {
        public static final String NOT_FOUND = "not_found";
        public static final String QUEUE_FULL = "too_many_requests";
        public static final String QUEUE_TIMEOUT = "no_capacity";
        /** Refused instead of queued ({@link IfBusy#REFUSE}): another node may take it. */
        public static final String AT_CAPACITY = "at_capacity";
        public static final String TIMEOUT = "timeout";
        public static final String CRASHED = "instance_crashed";
        public static final String PROTOCOL = "protocol_violation";
        public static final String START_FAILED = "start_failed";
        public static final String SHUTTING_DOWN = "shutting_down";

        private Codes() {
        }
    }

    /**
     * The code of a call future's failure, itself or wrapped (a {@code CompletionException}):
     * its {@link CallException}'s, else {@code internal_error}.
     */
    public static String codeOf(Throwable t) {
        return t instanceof CallException c ? c.code()
                : t != null && t.getCause() instanceof CallException c ? c.code() : "internal_error";
    }

    private final long callId;
    private final String code;
    private final ObjectNode details;
    private final Duration retryAfter;

    public CallException(long callId, String code, String message, ObjectNode details, Duration retryAfter) {
        super(message, null, false, false);
        this.callId = callId;
        this.code = code;
        this.details = details;
        this.retryAfter = retryAfter;
    }

    public long callId() {
        return callId;
    }

    public String code() {
        return code;
    }

    /** The agent's error details (type, stack, ...) when the function failed; else null. */
    public ObjectNode details() {
        return details;
    }

    /** For rejections: when trying again makes sense; else null. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
