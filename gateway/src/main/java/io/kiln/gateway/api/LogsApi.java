package io.kiln.gateway.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.gateway.http.ApiError;
import io.kiln.gateway.http.Json;
import io.kiln.gateway.http.Replies;
import io.kiln.invoker.Invoker;
import io.kiln.invoker.logs.LogLine;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;

/**
 * {@code GET /v1/functions/{name}/logs}: recent lines, or with {@code follow=true} an NDJSON
 * stream of the recent lines and then every new one until the client disconnects. A follower
 * that does not keep up (its connection's write queue is full) is disconnected; it can resume
 * with {@code after=<the last seq it saw>}. With {@code since=<ISO time>} the lines are the oldest
 * from that time on, read from disk beyond the ones in memory (on a worker thread).
 */
public final class LogsApi {

    /** As many lines as the invoker's log book keeps per function. */
    static final int MAX_LIMIT = 2000;

    private final Vertx vertx;
    private final Invoker invoker;

    public LogsApi(Vertx vertx, Invoker invoker) {
        this.vertx = vertx;
        this.invoker = invoker;
    }

    public void logs(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        if (invoker.current(name).isEmpty()) {
            throw ApiError.notFound("no function named " + name);
        }
        int limit = (int) number(ctx, "limit", 100, 1, MAX_LIMIT);
        long after = number(ctx, "after", 0, 0, Long.MAX_VALUE);
        String follow = ctx.queryParams().get("follow");
        if (follow != null && !follow.equals("true") && !follow.equals("false")) {
            throw ApiError.badRequest("follow must be true or false, got \"" + follow + "\"");
        }
        String since = ctx.queryParams().get("since");
        if (since != null) {
            if ("true".equals(follow)) {
                throw ApiError.badRequest("since cannot be combined with follow=true: follow with after=<the last seq>");
            }
            long sinceMs = instant(since);
            vertx.executeBlocking(() -> invoker.logs().since(name, sinceMs, after, limit), false)
                    .onComplete(Triggers.guarded(ctx, ar -> {
                        if (ar.failed()) {
                            ctx.fail(ar.cause());
                            return;
                        }
                        reply(ctx, ar.result());
                    }));
            return;
        }
        if (!"true".equals(follow)) {
            reply(ctx, invoker.logs().recent(name, after, limit));
            return;
        }
        follow(ctx, name, after, limit);
    }

    private static void reply(RoutingContext ctx, List<LogLine> found) {
        ObjectNode body = Json.object();
        ArrayNode lines = body.putArray("lines");
        for (LogLine l : found) {
            lines.add(json(l));
        }
        Replies.json(ctx, 200, body);
    }

    private static long instant(String v) {
        try {
            return Instant.parse(v.strip()).toEpochMilli();
        } catch (DateTimeParseException | ArithmeticException e) {
            throw ApiError.badRequest("since must be an ISO-8601 time like 2026-11-21T14:00:00Z, got \"" + v + "\"");
        }
    }

    private void follow(RoutingContext ctx, String name, long after, int limit) {
        HttpServerResponse response = ctx.response();
        Context context = vertx.getOrCreateContext();
        response.setStatusCode(200).setChunked(true).putHeader("Content-Type", Replies.NDJSON);
        // Subscribe before reading the recent lines, so none falls between the two; a line that
        // comes both ways (seq up to the last recent one) is written once.
        long[] lastRecent = {after};
        AutoCloseable handle = invoker.logs().follow(name, line -> context.runOnContext(v -> {
            if (line.seq() > lastRecent[0]) {
                write(response, line);
            }
        }));
        Runnable close = () -> {
            try {
                handle.close();
            } catch (Exception ignored) {
                // Removing a follower does not fail.
            }
        };
        response.closeHandler(v -> close.run());
        response.endHandler(v -> close.run());
        List<LogLine> recent = invoker.logs().recent(name, after, limit);
        for (LogLine l : recent) {
            write(response, l);
            lastRecent[0] = l.seq();
        }
        if (recent.isEmpty()) {
            response.write(io.vertx.core.buffer.Buffer.buffer()); // sends the head now
        }
    }

    private static void write(HttpServerResponse response, LogLine line) {
        if (response.ended() || response.closed()) {
            return;
        }
        if (response.writeQueueFull()) {
            response.reset(); // too slow: let it reconnect with after=<seq>
            return;
        }
        response.write(Json.line(json(line)));
    }

    static ObjectNode json(LogLine l) {
        ObjectNode o = Json.object();
        o.put("seq", l.seq());
        o.put("time", Instant.ofEpochMilli(l.epochMs()).toString());
        o.put("version", l.version());
        o.put("instance", l.instanceId());
        if (l.callId().isEmpty()) {
            o.putNull("callId");
        } else {
            o.put("callId", l.callId());
        }
        o.put("stream", l.stream());
        o.put("text", l.text());
        return o;
    }

    private static long number(RoutingContext ctx, String param, long dflt, long min, long max) {
        String v = ctx.queryParams().get(param);
        if (v == null) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v.strip());
            if (n < min || n > max) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw ApiError.badRequest(param + " must be a whole number from " + min + " to " + max + ", got \""
                    + v + "\"");
        }
    }
}
