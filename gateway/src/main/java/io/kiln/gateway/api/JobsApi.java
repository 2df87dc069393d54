package io.kiln.gateway.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kiln.gateway.http.ApiError;
import io.kiln.gateway.http.Bodies;
import io.kiln.gateway.http.Json;
import io.kiln.gateway.http.Replies;
import io.kiln.gateway.jobs.DataSet;
import io.kiln.gateway.jobs.JobView;
import io.kiln.gateway.jobs.Jobs;
import io.kiln.invoker.Invoker;
import io.kiln.invoker.call.CallRequest;
import io.kiln.queue.db.Database;
import io.kiln.queue.job.Job;
import io.kiln.queue.job.JobGroup;
import io.kiln.queue.job.JobStore;
import io.kiln.queue.job.NewJob;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Batch jobs: submit, list, progress (one answer, or streamed), results and failures (JSON
 * Lines streamed from the store page by page), cancel and redrive. The data set is parsed on a
 * worker thread and every read or write runs on the store's threads; answers go out on the
 * request's event loop.
 */
public final class JobsApi {

    /** A JSON request carries the data set escaped: a little more than the data set's own limit. */
    static final long MAX_REQUEST_BYTES = DataSet.MAX_BYTES + (16L << 20);
    static final int PAGE = 256;
    static final int MAX_LIST = 1000;
    /** How often a watch looks at the job; it writes a line on a change, and at least once a second. */
    static final long WATCH_POLL_MS = 250;

    private final Vertx vertx;
    private final Invoker invoker;
    private final Jobs jobs;
    private final JobStore store;
    private final Database db;
    private final Clock clock;

    public JobsApi(Vertx vertx, Invoker invoker, Jobs jobs, Database db, Clock clock) {
        this.vertx = vertx;
        this.invoker = invoker;
        this.jobs = jobs;
        this.store = jobs.store();
        this.db = db;
        this.clock = clock;
    }

    /** {@code POST /v1/jobs}: 201 with the job. */
    public void submit(RoutingContext ctx) {
        Context context = vertx.getOrCreateContext();
        boolean raw = ctx.queryParams().contains("function");
        long limit = raw ? DataSet.MAX_BYTES : MAX_REQUEST_BYTES;
        Bodies.read(ctx.request(), limit, raw ? "the data set" : "the job request").onComplete(body -> {
            if (body.failed()) {
                Replies.errorAndClose(ctx, body.cause() instanceof ApiError a ? a
                        : ApiError.badRequest("reading the body failed: " + body.cause()), 0);
                return;
            }
            byte[] bytes = body.result().getBytes();
            vertx.<NewJob>executeBlocking(() -> raw ? JobSubmission.ofQuery(ctx.queryParams(), bytes, invoker)
                    : JobSubmission.ofJson(bytes, invoker, jobs.inputDir()), false).onComplete(parsed -> {
                if (parsed.failed()) {
                    fail(ctx, parsed.cause());
                    return;
                }
                db.async(() -> store.create(parsed.result())).whenComplete((job, e) -> context.runOnContext(v -> {
                    if (e != null) {
                        fail(ctx, e);
                        return;
                    }
                    ctx.response().putHeader("Location", "/v1/jobs/" + JobStore.format(job.id()));
                    Replies.json(ctx, 201, JobView.of(job, 0, clock.instant()));
                }));
            });
        });
    }

    /** {@code GET /v1/jobs?limit=N}: newest first. */
    public void list(RoutingContext ctx) {
        int limit = limit(ctx.queryParams().get("limit"));
        answer(ctx, () -> store.list(limit), list -> {
            ObjectNode o = Json.object();
            ArrayNode a = o.putArray("jobs");
            Instant now = clock.instant();
            for (Job j : list) {
                a.add(JobView.of(j, -1, now));
            }
            return o;
        });
    }

    /** {@code GET /v1/jobs/{id}}, or with {@code ?watch=true} the same streamed as {@link #progress}. */
    public void get(RoutingContext ctx) {
        if ("true".equals(ctx.queryParams().get("watch"))) {
            progress(ctx);
            return;
        }
        long id = id(ctx);
        answer(ctx, () -> view(id), o -> o);
    }

    /** The job with its rate, or 404. */
    private ObjectNode view(long id) throws java.sql.SQLException {
        Job j = store.get(id);
        if (j == null) {
            throw notFound(id);
        }
        Instant now = clock.instant();
        return JobView.of(j, store.endedSince(id, now.minus(JobView.RATE_WINDOW)), now);
    }

    /**
     * {@code GET /v1/jobs/{id}/progress}: NDJSON, a line when the counts change and at least one
     * a second, ending with the line of the job's end (nothing of it still running).
     */
    public void progress(RoutingContext ctx) {
        long id = id(ctx);
        Context context = vertx.getOrCreateContext();
        HttpServerResponse r = ctx.response();
        AtomicReference<String> lastKey = new AtomicReference<>();
        AtomicLong lastWrite = new AtomicLong();
        AtomicBoolean busy = new AtomicBoolean();
        AtomicLong timer = new AtomicLong(-1);
        Runnable poll = () -> {
            if (!busy.compareAndSet(false, true)) {
                return;
            }
            db.async(() -> view(id)).whenComplete((o, e) -> context.runOnContext(v -> {
                busy.set(false);
                if (r.closed() || r.ended()) {
                    vertx.cancelTimer(timer.get());
                    return;
                }
                if (e != null) {
                    vertx.cancelTimer(timer.get());
                    if (!r.headWritten()) {
                        fail(ctx, e);
                    } else {
                        r.end();
                    }
                    return;
                }
                if (!r.headWritten()) {
                    r.setChunked(true).putHeader("Content-Type", Replies.NDJSON);
                }
                String key = o.get("state").asText() + "/" + o.get("done") + "/" + o.get("failed") + "/"
                        + o.get("inFlight") + "/" + o.get("cancelled") + "/" + o.get("duplicates");
                long now = System.nanoTime();
                boolean settled = !o.get("state").asText().equals("running") && o.get("inFlight").asLong() == 0;
                if (!key.equals(lastKey.get()) || now - lastWrite.get() >= 1_000_000_000L || settled) {
                    lastKey.set(key);
                    lastWrite.set(now);
                    r.write(Json.line(o));
                }
                if (settled) {
                    vertx.cancelTimer(timer.get());
                    r.end();
                }
            }));
        };
        timer.set(vertx.setPeriodic(WATCH_POLL_MS, t -> poll.run()));
        r.closeHandler(v -> vertx.cancelTimer(timer.get()));
        poll.run();
    }

    /** {@code GET /v1/jobs/{id}/results}: JSON Lines of the succeeded calls, in record order. */
    public void results(RoutingContext ctx) {
        stream(ctx, "succeeded");
    }

    /** {@code GET /v1/jobs/{id}/failures}: JSON Lines of the failed calls with their errors, in record order. */
    public void failures(RoutingContext ctx) {
        stream(ctx, "failed");
    }

    private void stream(RoutingContext ctx, String state) {
        long id = id(ctx);
        Context context = vertx.getOrCreateContext();
        db.async(() -> store.get(id)).whenComplete((job, e) -> context.runOnContext(v -> {
            if (e != null || job == null) {
                fail(ctx, e != null ? e : notFound(id));
                return;
            }
            HttpServerResponse r = ctx.response();
            r.setChunked(true).putHeader("Content-Type", Replies.NDJSON);
            page(r, context, id, state, -1, job.recordsPerCall() > 1);
        }));
    }

    /** Writes one page, then asks for the next once the connection has room: never the whole output in memory. */
    private void page(HttpServerResponse r, Context context, long id, String state, long after, boolean grouped) {
        db.async(() -> store.groups(id, state, after, PAGE)).whenComplete((list, e) -> context.runOnContext(v -> {
            if (r.closed()) {
                return;
            }
            if (e != null) {
                // The head is out: all that can be said is that the stream is cut short.
                r.reset();
                return;
            }
            for (JobGroup g : list) {
                byte[] line = state.equals("succeeded") ? JobView.resultLine(g, grouped)
                        : JobView.failureLine(g, grouped);
                r.write(Buffer.buffer(line));
            }
            if (list.size() < PAGE) {
                r.end();
                return;
            }
            long last = list.get(list.size() - 1).index();
            if (r.writeQueueFull()) {
                r.drainHandler(x -> page(r, context, id, state, last, grouped));
            } else {
                page(r, context, id, state, last, grouped);
            }
        }));
    }

    /** {@code POST /v1/jobs/{id}/cancel}: 200 with the job; 409 if it is not running. */
    public void cancel(RoutingContext ctx) {
        long id = id(ctx);
        answer(ctx, () -> {
            boolean stopped = store.cancel(id);
            ObjectNode o = view(id);
            if (!stopped) {
                throw new ApiError(409, "conflict", "job " + JobStore.format(id) + " is not running (it is "
                        + o.get("state").asText() + ")");
            }
            return o;
        }, o -> o);
    }

    /**
     * {@code POST /v1/jobs/{id}/redrive}: its failed records, and those a stop left unrun, are
     * fed again. 200 with {@code {"redriven": n, "job": {...}}}.
     */
    public void redrive(RoutingContext ctx) {
        long id = id(ctx);
        answer(ctx, () -> {
            long n = store.redrive(id);
            ObjectNode o = Json.object().put("redriven", n);
            o.set("job", view(id));
            return o;
        }, o -> o);
    }

    // ---- helpers -------------------------------------------------------------------------

    private static long id(RoutingContext ctx) {
        try {
            return CallRequest.parse(ctx.pathParam("id"));
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("a job id is 16 hex digits, got \"" + ctx.pathParam("id") + "\"");
        }
    }

    private static ApiError notFound(long id) {
        return ApiError.notFound("no job " + JobStore.format(id));
    }

    static int limit(String v) {
        if (v == null) {
            return 100;
        }
        int n = DeployParams.integer("limit", v);
        if (n < 1 || n > MAX_LIST) {
            throw ApiError.badRequest("limit must be between 1 and " + MAX_LIST + ", got " + n);
        }
        return n;
    }

    private static void fail(RoutingContext ctx, Throwable e) {
        Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                ? e.getCause() : e;
        if (cause instanceof ApiError a) {
            Replies.error(ctx, a, 0);
        } else {
            ctx.fail(cause);
        }
    }

    private <T> void answer(RoutingContext ctx, Database.Blocking<T> work,
                            java.util.function.Function<T, ObjectNode> then) {
        Context context = vertx.getOrCreateContext();
        db.async(work).whenComplete((t, e) -> context.runOnContext(v -> {
            if (e != null) {
                fail(ctx, e);
                return;
            }
            try {
                Replies.json(ctx, 200, then.apply(t));
            } catch (ApiError a) {
                Replies.error(ctx, a, 0);
            }
        }));
    }
}
