package io.kiln.gateway.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.invoker.call.CallException;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionException;

/**
 * A call's failure as an HTTP answer: the invoker's and the agent's codes keep their name and
 * get a status. The function's own exception type travels with {@code function_error}; its
 * stack never leaves the gateway.
 */
public final class CallErrors {

    /** Code → status; a code not listed is 502 (the instance said something the platform did not expect). */
    static final Map<String, Integer> STATUS = Map.ofEntries(
            Map.entry(CallException.Codes.NOT_FOUND, 404),
            Map.entry(CallException.Codes.QUEUE_FULL, 429),
            Map.entry(CallException.Codes.QUEUE_TIMEOUT, 503),
            Map.entry(CallException.Codes.SHUTTING_DOWN, 503),
            Map.entry(CallException.Codes.AT_CAPACITY, 503),
            Map.entry(CallException.Codes.TIMEOUT, 504),
            Map.entry(CallException.Codes.CRASHED, 502),
            Map.entry(CallException.Codes.PROTOCOL, 502),
            Map.entry(CallException.Codes.START_FAILED, 502),
            Map.entry("function_error", 500),
            Map.entry("fatal", 500),
            Map.entry("bad_input", 400),
            Map.entry("bad_output", 500),
            Map.entry("result_too_large", 502));

    private CallErrors() {
    }

    public static int status(String code) {
        return STATUS.getOrDefault(code, 502);
    }

    /** Any failure of a call future as an {@link ApiError}: unknown ones are a 500 without details. */
    public static ApiError of(Throwable t) {
        Throwable e = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        if (e instanceof ApiError a) {
            return a;
        }
        if (e instanceof CallException c) {
            return of(c);
        }
        System.getLogger(CallErrors.class.getName()).log(System.Logger.Level.ERROR, "a call failed unexpectedly", e);
        return new ApiError(500, "internal_error", "the call failed inside the platform; see the gateway's log");
    }

    public static ApiError of(CallException c) {
        ObjectNode extra = null;
        JsonNode type = c.details() == null ? null : c.details().get("type");
        if (type != null && type.isTextual()) {
            extra = Json.object().put("type", type.asText());
        }
        Duration retry = c.retryAfter();
        String message = c.getMessage() == null ? c.code() : c.getMessage();
        return new ApiError(status(c.code()), c.code(), message, extra, retry);
    }
}
