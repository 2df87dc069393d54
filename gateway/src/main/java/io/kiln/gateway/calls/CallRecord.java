package io.kiln.gateway.calls;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.gateway.http.ApiError;
import io.kiln.gateway.http.Json;
import io.kiln.gateway.http.Replies;
import io.kiln.gateway.http.Reply;
import io.kiln.invoker.call.CallRequest;

import java.util.Base64;
import java.util.Map;

/**
 * One async call as {@code GET /v1/calls/{id}} shows it. Its state moves from queued to running
 * (an instance took it) to succeeded or failed; the fields are written by the invoker's threads
 * and read by the event loop, so each is volatile and the final one is set last.
 */
public final class CallRecord {

    public enum State {
        QUEUED, RUNNING, SUCCEEDED, FAILED;

        String json() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final long callId;
    private final String function;
    private final String callback;
    private volatile Reply result;
    private volatile ApiError error;
    private volatile State state = State.QUEUED;

    CallRecord(long callId, String function, String callback) {
        this.callId = callId;
        this.function = function;
        this.callback = callback;
    }

    public long callId() {
        return callId;
    }

    public String function() {
        return function;
    }

    /** Where to POST the record when the call ends; null for none. */
    public String callback() {
        return callback;
    }

    public State state() {
        return state;
    }

    /** The invoker dispatched the call to an instance. */
    public void running() {
        if (state == State.QUEUED) {
            state = State.RUNNING;
        }
    }

    void succeeded(Reply r) {
        result = r;
        state = State.SUCCEEDED;
    }

    void failed(ApiError e) {
        error = e;
        state = State.FAILED;
    }

    /** The body bytes kept, for the record cache's weigher. */
    int weightBytes() {
        Reply r = result;
        return r == null ? 0 : r.body().length;
    }

    /**
     * {@code {"callId","function","state"}} plus, once ended, {@code "result":{"status","headers",
     * "contentType","bodyBase64"}} or {@code "error":{"code","message","callId",...}}.
     */
    public ObjectNode toJson() {
        State s = state;
        ObjectNode o = Json.object().put("callId", CallRequest.format(callId)).put("function", function)
                .put("state", s.json());
        if (s == State.SUCCEEDED) {
            Reply r = result;
            ObjectNode res = o.putObject("result");
            res.put("status", r.status());
            ArrayNode headers = res.putArray("headers");
            for (Map.Entry<String, String> h : r.headers()) {
                headers.addArray().add(h.getKey()).add(h.getValue());
            }
            if (r.contentType() == null) {
                res.putNull("contentType");
            } else {
                res.put("contentType", r.contentType());
            }
            res.put("bodyBase64", Base64.getEncoder().encodeToString(r.body()));
        } else if (s == State.FAILED) {
            o.set("error", Replies.errorObject(error, callId));
        }
        return o;
    }
}
