package io.kiln.invoker.call;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.invoker.instance.AgentError;
import io.kiln.invoker.instance.InstanceFailure;
import io.kiln.invoker.pool.PoolKey;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.Frame;
import io.kiln.protocol.ResultFrame;

import java.io.IOException;
import java.util.concurrent.CompletionException;

/**
 * What an instance's answer means: the caller's result or error, and whether the instance
 * is still clean enough for the next call. No state; any thread.
 */
final class CallAnswers {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * @param result   the caller's result, or null
     * @param error    the caller's error, or null
     * @param reusable whether the instance may serve another call
     * @param why      why it may not (for the teardown's log line)
     */
    record Answer(CallResult result, CallException error, boolean reusable, String why) {
    }

    private CallAnswers() {
    }

    static Answer of(long callId, PoolKey key, Frame frame, Throwable error, CallTimings t) {
        if (frame instanceof ResultFrame result) {
            return new Answer(new CallResult(callId, key.function(), key.version(), result.body(),
                    metadata(result.metadata()), t), null, true, null);
        }
        if (frame instanceof ErrorFrame errorFrame) {
            AgentError agent = AgentError.of(errorFrame);
            return new Answer(null, new CallException(callId, agent.code(), agent.message(), agent.details(), null),
                    agent.instanceReusable(), "the agent answered " + agent.code());
        }
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        return new Answer(null, failure(callId, key, cause), false, "the call failed: " + cause);
    }

    /** What the caller hears when the instance failed (it is being destroyed by then). */
    private static CallException failure(long callId, PoolKey key, Throwable cause) {
        if (cause instanceof InstanceFailure f) {
            String code = switch (f.kind()) {
                case TIMEOUT -> CallException.Codes.TIMEOUT;
                case PROTOCOL -> CallException.Codes.PROTOCOL;
                case CRASHED, DESTROYED -> CallException.Codes.CRASHED;
            };
            ObjectNode details = f.consoleTail().isEmpty() ? null
                    : JSON.createObjectNode().put("console", f.consoleTail());
            return new CallException(callId, code, "call " + CallRequest.format(callId) + " to " + key + ": "
                    + f.getMessage() + "; the instance was destroyed", details, null);
        }
        return new CallException(callId, CallException.Codes.CRASHED, "call " + CallRequest.format(callId)
                + " failed: " + cause, null, null);
    }

    private static ObjectNode metadata(String json) {
        try {
            return json.isEmpty() ? JSON.createObjectNode() : (ObjectNode) JSON.readTree(json);
        } catch (IOException | ClassCastException e) {
            return JSON.createObjectNode(); // the agent writes objects; anything else is dropped
        }
    }
}
