package io.kiln.gateway.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.gateway.http.Json;
import io.kiln.gateway.http.Reply;
import io.kiln.invoker.call.CallRequest;
import io.kiln.queue.Attempt;
import io.kiln.queue.QueueItem;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * A queued call as the API shows it: {@code GET /v1/calls/{id}}, a dead letter, and the record a
 * destination or callback receives. docs/API.md, "Async calls", is the contract.
 */
public final class CallView {

    private CallView() {
    }

    /** The state as users see it: queued, retrying (waiting out a backoff), running, succeeded, failed, cancelled. */
    static String state(QueueItem i) {
        return switch (i.state()) {
            case AVAILABLE -> i.attempt() > 0 || i.attemptsTotal() > 0 ? "retrying" : "queued";
            case RUNNING -> "running";
            case SUCCEEDED -> "succeeded";
            case DEAD -> "failed";
            case CANCELLED -> "cancelled";
        };
    }

    /**
     * {@code callId, function, state, source, attempts, createdAt, [nextAttemptAt], [finishedAt],
     * [result], [error], [input]}, and the attempts in detail when given.
     */
    public static ObjectNode of(QueueItem i, List<Attempt> attempts, boolean withInput) {
        ObjectNode o = Json.object().put("callId", CallRequest.format(i.id())).put("function", i.function())
                .put("state", state(i)).put("source", i.source()).put("attempts", i.attempt());
        o.put("createdAt", i.createdAt().toString());
        if (i.state() == QueueItem.State.AVAILABLE) {
            o.put("nextAttemptAt", i.runAt().toString());
        }
        if (i.finishedAt() != null) {
            o.put("finishedAt", i.finishedAt().toString());
        }
        if (i.idempotencyKey() != null) {
            o.put("idempotencyKey", i.idempotencyKey());
        }
        if (i.state() == QueueItem.State.SUCCEEDED && i.result() != null) {
            o.set("result", parse(i.result()));
        }
        if (i.errorCode() != null && i.state() != QueueItem.State.SUCCEEDED) {
            ObjectNode error = o.putObject("error").put("code", i.errorCode()).put("message", i.errorMessage());
            if (i.errorType() != null) {
                error.put("type", i.errorType());
            }
            error.put("callId", CallRequest.format(i.id()));
        }
        if (withInput) {
            o.put("inputBase64", Base64.getEncoder().encodeToString(i.input()));
        }
        if (attempts != null) {
            ArrayNode a = o.putArray("attemptLog");
            for (Attempt t : attempts) {
                ObjectNode n = a.addObject().put("attempt", t.seq()).put("node", t.node())
                        .put("startedAt", t.startedAt().toString());
                time(n, "endedAt", t.endedAt());
                if (t.outcome() == null) {
                    n.putNull("outcome");
                } else {
                    n.put("outcome", t.outcome());
                }
                if (t.errorCode() != null) {
                    ObjectNode error = n.putObject("error").put("code", t.errorCode()).put("message", t.errorMessage());
                    if (t.errorType() != null) {
                        error.put("type", t.errorType());
                    }
                }
            }
        }
        return o;
    }

    private static void time(ObjectNode o, String field, Instant t) {
        if (t == null) {
            o.putNull(field);
        } else {
            o.put(field, t.toString());
        }
    }

    /** A function's reply as stored: {@code {"status","headers":[[n,v]...],"contentType","bodyBase64"}}. */
    static byte[] result(Reply r) {
        ObjectNode res = Json.object();
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
        try {
            return Json.MAPPER.writeValueAsBytes(res);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode parse(byte[] json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException("a stored result is not JSON", e);
        }
    }
}
