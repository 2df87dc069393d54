package io.kiln.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.agent.Json;
import io.kiln.function.Headers;
import io.kiln.protocol.ErrorFrame;
import io.kiln.protocol.Frame;
import io.kiln.protocol.FrameCodec;
import io.kiln.protocol.LogFrame;
import io.kiln.protocol.ResultFrame;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One call's outcome, read from the RESULT or ERROR frame the agent's call path produced: what
 * the gateway turns into the HTTP response (docs/API.md, "Sync trigger").
 *
 * <ul>
 *   <li>A result: {@link #status()} is the {@code HttpResponse}'s (or an API Gateway/ALB response
 *       event's) status, else 200; {@link #headers()} its headers, else just the
 *       {@code Content-Type} the platform sends; {@link #body()} the body.</li>
 *   <li>An error: {@link #error()} has the code the platform reports ({@code function_error},
 *       {@code bad_input}, {@code bad_output}, {@code result_too_large}), the message and the
 *       exception's class; {@link #status()} throws, saying so.</li>
 * </ul>
 *
 * <p>This is the answer as the agent gives it. The gateway then applies HTTP's own rules, which
 * a handler rarely meets: it drops hop-by-hop, {@code Content-Length} and {@code X-Kiln-*}
 * response headers, sends no body with 204 and 304, and refuses a status outside 200-599 as
 * {@code bad_output}.
 */
public final class Result {

    /** A call that failed: what {@code {"error":{...}}} holds. {@code type} is null when no exception was thrown. */
    public record Error(String code, String message, String type) {
    }

    private final Error error;
    private final int status;
    private final Headers headers;
    private final byte[] body;
    private final List<String> logs;

    private Result(Error error, int status, Headers headers, byte[] body, List<String> logs) {
        this.error = error;
        this.status = status;
        this.headers = headers;
        this.body = body;
        this.logs = logs;
    }

    static Result of(Frame answer, byte[] logFrames) {
        List<String> logs = logLines(logFrames);
        if (answer instanceof ErrorFrame e) {
            ObjectNode meta = Json.metadata(e.metadata());
            return new Result(new Error(meta.path("code").asText(), meta.path("message").asText(),
                    meta.hasNonNull("type") ? meta.get("type").asText() : null), 0, Headers.empty(),
                    new byte[0], logs);
        }
        ResultFrame r = (ResultFrame) answer;
        ObjectNode meta = Json.metadata(r.metadata());
        JsonNode http = meta.get("http");
        if (http != null && http.isObject()) {
            Headers.Builder h = Headers.builder();
            for (JsonNode pair : http.path("headers")) {
                h.add(pair.get(0).asText(), pair.get(1).asText());
            }
            return new Result(null, http.path("status").asInt(), h.build(), r.body(), logs);
        }
        Headers h = meta.hasNonNull("contentType")
                ? Headers.of("Content-Type", meta.get("contentType").asText()) : Headers.empty();
        return new Result(null, 200, h, r.body(), logs);
    }

    private static List<String> logLines(byte[] frames) {
        StringBuilder text = new StringBuilder();
        FrameCodec codec = new FrameCodec();
        ByteArrayInputStream in = new ByteArrayInputStream(frames);
        try {
            while (true) {
                Frame f = codec.read(in);
                if (f instanceof LogFrame l) {
                    text.append(new String(l.body(), StandardCharsets.UTF_8));
                }
            }
        } catch (EOFException end) {
            // all read
        } catch (IOException e) {
            throw new UncheckedIOException("the agent wrote a LOG frame it cannot read back", e);
        }
        return text.isEmpty() ? List.of() : List.of(text.toString().split("\n"));
    }

    /** The call answered (its handler returned); false if it failed. */
    public boolean ok() {
        return error == null;
    }

    /** Why the call failed, or null if it answered. */
    public Error error() {
        return error;
    }

    /**
     * The HTTP status of the answer.
     *
     * @throws IllegalStateException if the call failed (see {@link #error()})
     */
    public int status() {
        if (error != null) {
            throw new IllegalStateException("the call failed, so it has no answer: " + this);
        }
        return status;
    }

    public Headers headers() {
        return headers;
    }

    /** The {@code Content-Type} of the answer, or null. */
    public String contentType() {
        return headers.first("Content-Type").orElse(null);
    }

    public byte[] body() {
        return body.clone();
    }

    /** The body as UTF-8 text. */
    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    /** The lines the call logged through {@code Context.logger()} or Lambda's logger, in order. */
    public List<String> logs() {
        return logs;
    }

    @Override
    public String toString() {
        if (error != null) {
            return error.code() + ": " + error.message() + (error.type() != null ? " (" + error.type() + ")" : "");
        }
        return status + " " + headers + " " + bodyText();
    }
}
