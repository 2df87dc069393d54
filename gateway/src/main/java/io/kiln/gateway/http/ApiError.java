package io.kiln.gateway.http;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Duration;

/**
 * An answer that is an error: the HTTP status, a stable code, a message for humans, and
 * optionally more fields for the error object and a Retry-After. Thrown or failed into a
 * routing context; {@link Replies#error} writes it as {@code {"error":{"code","message",...}}}.
 */
public final class ApiError extends RuntimeException {

    private final int status;
    private final String code;
    private final ObjectNode extra;
    private final Duration retryAfter;

    public ApiError(int status, String code, String message, ObjectNode extra, Duration retryAfter) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.extra = extra;
        this.retryAfter = retryAfter;
    }

    public ApiError(int status, String code, String message) {
        this(status, code, message, null, null);
    }

    public static ApiError badRequest(String message) {
        return new ApiError(400, "bad_request", message);
    }

    public static ApiError notFound(String message) {
        return new ApiError(404, "not_found", message);
    }

    public static ApiError tooLarge(String message) {
        return new ApiError(413, "payload_too_large", message);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** Fields added to the error object after code and message (e.g. {@code type}, {@code output}); may be null. */
    public ObjectNode extra() {
        return extra;
    }

    public Duration retryAfter() {
        return retryAfter;
    }
}
