package io.kiln.invoker.call;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.Objects;

/**
 * One call to a function.
 *
 * @param callId  non-zero; random, so ids stay unique across restarts of the platform
 * @param body    the input, raw
 * @param http    the request head for HTTP-triggered calls ({@code method}, {@code path},
 *                {@code query}, {@code headers}; docs/PROTOCOL.md, INVOKE), else null
 * @param timeout this call's deadline, null for the function's; never longer than the function's
 */
public record CallRequest(long callId, byte[] body, ObjectNode http, Duration timeout) {

    private static final SecureRandom IDS = new SecureRandom();

    public CallRequest {
        if (callId == 0) {
            throw new IllegalArgumentException("call id 0 is reserved");
        }
        Objects.requireNonNull(body, "body");
    }

    public static CallRequest of(byte[] body) {
        return new CallRequest(newId(), body, null, null);
    }

    public CallRequest withHttp(ObjectNode head) {
        return new CallRequest(callId, body, head, timeout);
    }

    public CallRequest withTimeout(Duration t) {
        return new CallRequest(callId, body, http, t);
    }

    /** A fresh random non-zero call id. */
    public static long newId() {
        long id;
        do {
            id = IDS.nextLong();
        } while (id == 0);
        return id;
    }

    /** How call ids are shown to users: 16 lowercase hex digits. */
    public static String format(long callId) {
        return String.format("%016x", callId);
    }

    /** The inverse of {@link #format}; IllegalArgumentException for anything else. */
    public static long parse(String text) {
        if (text == null || !text.matches("[0-9a-f]{16}")) {
            throw new IllegalArgumentException("a call id is 16 lowercase hex digits, got '" + text + "'");
        }
        return Long.parseUnsignedLong(text, 16);
    }
}
