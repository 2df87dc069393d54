package io.kiln.gateway.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.gateway.cluster.Cluster;
import io.kiln.gateway.cluster.Forwarder;
import io.kiln.gateway.http.ApiError;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
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
import java.util.ArrayList;
import java.util.List;

/**
 * {@code GET /v1/functions/{name}/logs}: recent lines, or with {@code follow=true} an NDJSON
 * stream of the recent lines and then every new one until the client disconnects. A follower
 * that does not keep up (its connection's write queue is full) is disconnected; it can resume
 * with {@code after=<the last seq it saw>}. With {@code since=<ISO time>} the lines are the oldest
 * from that time on, read from disk beyond the ones in memory (on a worker thread).
 *
 * <p>In a cluster each node keeps its own functions' logs; the node that takes the request asks
 * every other live node for its lines (with the internal credential, so each answers with its
 * own only) and merges them by time. A follower gets every node's new lines as they come.
 */
public final class LogsApi {

    /** As many lines as the invoker's log book keeps per function. */
    static final int MAX_LIMIT = 2000;

    private final Vertx vertx;
    private final Invoker invoker;
    /** This node's name, on every line it gives. */
    private final String node;
    /** Null on a single node. */
    private final Cluster cluster;

    public LogsApi(Vertx vertx, Invoker invoker, String node, Cluster cluster) {
        this.vertx = vertx;
        this.invoker = invoker;
        this.node = node;
        this.cluster = cluster;
    }

    /** The other live nodes, when this request is to be merged from theirs: a client's, in a cluster. */
    private List<String> peers(RoutingContext ctx) {
        if (cluster == null || cluster.forwarded(ctx.request()) || cluster.membership() == null) {
            return List.of();
        }
        return cluster.membership().view().live().stream().filter(n -> !n.equals(node)).toList();
    }

    public void logs(RoutingContext ctx) {
        String name = ctx.pathParam("name");
        List<String> peers = peers(ctx);
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
                        reply(ctx, ar.result(), peers, limit, true);
                    }));
            return;
        }
        if (!"true".equals(follow)) {
            reply(ctx, invoker.logs().recent(name, after, limit), peers, limit, false);
            return;
        }
        follow(ctx, name, after, limit, peers);
    }

    /**
     * Answers with this node's lines and, in a cluster, every peer's, merged by time: the oldest
     * {@code limit} for {@code since}, else the newest. A peer that does not answer is named in
     * {@code unavailable}; its lines are missing.
     */
    private void reply(RoutingContext ctx, List<LogLine> found, List<String> peers, int limit, boolean oldest) {
        List<ObjectNode> all = new ArrayList<>();
        for (LogLine l : found) {
            all.add(json(l));
        }
        if (peers.isEmpty()) {
            Replies.json(ctx, 200, body(all, List.of()));
            return;
        }
        List<Future<Forwarder.Outcome>> asked = new ArrayList<>();
        for (String peer : peers) {
            asked.add(cluster.forwarder().forward(cluster.url(peer), HttpMethod.GET, ctx.request().uri(),
                    ctx.request().headers(), Buffer.buffer(), false, PEER_TIMEOUT_MS));
        }
        Future.join(asked).onComplete(Triggers.guarded(ctx, done -> {
            List<String> unavailable = new ArrayList<>();
            for (int i = 0; i < peers.size(); i++) {
                Future<Forwarder.Outcome> f = asked.get(i);
                if (f.succeeded() && f.result() instanceof Forwarder.Answered a && a.status() == 200) {
                    try {
                        for (com.fasterxml.jackson.databind.JsonNode l : Json.MAPPER.readTree(a.body().getBytes())
                                .path("lines")) {
                            all.add((ObjectNode) l);
                        }
                        continue;
                    } catch (java.io.IOException e) {
                        // A peer's answer that does not parse is reported like no answer.
                    }
                }
                unavailable.add(peers.get(i));
            }
            all.sort(BY_TIME);
            List<ObjectNode> kept = all.size() <= limit ? all
                    : oldest ? all.subList(0, limit) : all.subList(all.size() - limit, all.size());
            Replies.json(ctx, 200, body(kept, unavailable));
        }));
    }

    /** How long a merged request waits for a peer's lines. */
    static final long PEER_TIMEOUT_MS = 5_000;

    /** By time, then node, then seq: one order on every node. */
    static final java.util.Comparator<ObjectNode> BY_TIME = java.util.Comparator
            .comparing((ObjectNode o) -> Instant.parse(o.path("time").asText()))
            .thenComparing(o -> o.path("node").asText()).thenComparingLong(o -> o.path("seq").asLong());

    private static ObjectNode body(List<ObjectNode> lines, List<String> unavailable) {
        ObjectNode body = Json.object();
        ArrayNode array = body.putArray("lines");
        lines.forEach(array::add);
        if (!unavailable.isEmpty()) {
            ArrayNode u = body.putArray("unavailable");
            unavailable.forEach(u::add);
        }
        return body;
    }

    private static long instant(String v) {
        try {
            return Instant.parse(v.strip()).toEpochMilli();
        } catch (DateTimeParseException | ArithmeticException e) {
            throw ApiError.badRequest("since must be an ISO-8601 time like 2026-11-21T14:00:00Z, got \"" + v + "\"");
        }
    }

    private void follow(RoutingContext ctx, String name, long after, int limit, List<String> peers) {
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
        // Each peer's lines (its recent ones, then its new ones) are relayed as they arrive; its
        // stream is closed with the client's.
        List<AutoCloseable> peerStreams = new ArrayList<>();
        Runnable closeAll = () -> {
            close.run();
            for (AutoCloseable c : peerStreams) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // Resetting a finished stream does not fail.
                }
            }
            peerStreams.clear();
        };
        response.closeHandler(v -> closeAll.run());
        response.endHandler(v -> closeAll.run());
        for (String peer : peers) {
            cluster.forwarder().stream(cluster.url(peer), ctx.request().uri(), ctx.request().headers(),
                    line -> context.runOnContext(v -> {
                        if (line.length() > 0) {
                            write(response, line.appendString("\n"));
                        }
                    })).onSuccess(stream -> context.runOnContext(v -> {
                        peerStreams.add(stream);
                        if (response.ended() || response.closed()) {
                            closeAll.run();
                        }
                    }));
        }
        List<LogLine> recent = invoker.logs().recent(name, after, limit);
        for (LogLine l : recent) {
            write(response, l);
            lastRecent[0] = l.seq();
        }
        if (recent.isEmpty()) {
            response.write(io.vertx.core.buffer.Buffer.buffer()); // sends the head now
        }
    }

    private void write(HttpServerResponse response, LogLine line) {
        write(response, Json.line(json(line)));
    }

    /** One NDJSON line to a follower, this node's or a peer's. */
    private static void write(HttpServerResponse response, Buffer line) {
        if (response.ended() || response.closed()) {
            return;
        }
        if (response.writeQueueFull()) {
            response.reset(); // too slow: let it reconnect with after=<seq>
            return;
        }
        response.write(line);
    }

    private ObjectNode json(LogLine l) {
        ObjectNode o = Json.object();
        o.put("node", node);
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
