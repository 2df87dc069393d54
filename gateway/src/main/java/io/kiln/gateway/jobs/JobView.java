package io.kiln.gateway.jobs;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.kiln.gateway.http.Json;
import io.kiln.queue.RetryPolicy;
import io.kiln.queue.job.Job;
import io.kiln.queue.job.JobGroup;
import io.kiln.queue.job.JobStore;
import io.kiln.queue.job.Tolerance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;

/** A job, and its results' and failures' lines, as JSON. */
public final class JobView {

    /** The rate is measured over this window once the job is older than it. */
    public static final Duration RATE_WINDOW = Duration.ofMinutes(1);

    private static final ObjectReader STRICT = Json.MAPPER.reader()
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private JobView() {
    }

    /**
     * The job's state and counts; with {@code endedInWindow} (records that ended in the last
     * {@link #RATE_WINDOW}, or -1 when not measured) also its rate and ETA.
     */
    public static ObjectNode of(Job j, long endedInWindow, Instant now) {
        ObjectNode o = Json.object();
        o.put("id", JobStore.format(j.id()));
        o.put("function", j.function());
        o.put("state", j.state().sql());
        o.put("total", j.total());
        o.put("done", j.done());
        o.put("failed", j.failed());
        o.put("inFlight", j.queued());
        o.put("pending", j.pending());
        o.put("cancelled", j.cancelled());
        o.put("duplicates", j.duplicates());
        if (endedInWindow >= 0) {
            double rate = rate(j, endedInWindow, now);
            o.put("rate", Math.round(rate * 100) / 100.0);
            long left = j.pending() + j.queued();
            if (j.state() == Job.State.RUNNING && rate > 0) {
                o.put("etaSeconds", (long) Math.ceil(left / rate));
            } else {
                o.putNull("etaSeconds");
            }
        }
        if (j.stopReason() == null) {
            o.putNull("stopReason");
        } else {
            o.put("stopReason", j.stopReason());
        }
        o.put("recordsPerCall", j.recordsPerCall());
        o.put("maxConcurrency", j.maxConcurrency());
        Tolerance t = j.tolerance();
        if (t.kind() == Tolerance.Kind.COUNT) {
            o.putObject("tolerate").put("failures", t.value());
        } else {
            o.putObject("tolerate").put("failurePercent", t.percent());
        }
        RetryPolicy p = j.policy();
        o.putObject("retry").put("maxRetries", p.maxRetries()).put("retryBackoff", p.backoffBase().toMillis() + "ms")
                .put("maxRetryBackoff", p.backoffMax().toMillis() + "ms")
                .put("maxEventAge", p.maxAge().toMillis() + "ms");
        o.put("createdAt", j.createdAt().toString());
        if (j.finishedAt() == null) {
            o.putNull("finishedAt");
        } else {
            o.put("finishedAt", j.finishedAt().toString());
        }
        return o;
    }

    /**
     * Records per second: over the last minute, or since the start for a younger job; an ended
     * job's is its average over its whole run.
     */
    static double rate(Job j, long endedInWindow, Instant now) {
        long ended = j.done() + j.failed();
        if (j.state() != Job.State.RUNNING && j.finishedAt() != null) {
            long ms = Duration.between(j.createdAt(), j.finishedAt()).toMillis();
            return ms <= 0 ? 0 : ended * 1000.0 / ms;
        }
        long ms = Duration.between(j.createdAt(), now).toMillis();
        if (ms < RATE_WINDOW.toMillis()) {
            return ms <= 0 ? 0 : ended * 1000.0 / ms;
        }
        return endedInWindow * 1000.0 / RATE_WINDOW.toMillis();
    }

    /** {@code {"index","input","output"}}: with more than one record per call, also {@code firstRecord}. */
    public static byte[] resultLine(JobGroup g, boolean grouped) {
        ObjectNode o = line(g, grouped);
        o.set("output", output(g.output()));
        return bytes(o);
    }

    /** {@code {"index","input","error":{"code","message","type"?},"attempts"}}. */
    public static byte[] failureLine(JobGroup g, boolean grouped) {
        ObjectNode o = line(g, grouped);
        ObjectNode e = o.putObject("error").put("code", g.errorCode()).put("message", g.errorMessage());
        if (g.errorType() != null) {
            e.put("type", g.errorType());
        }
        o.put("attempts", g.attempts());
        return bytes(o);
    }

    private static ObjectNode line(JobGroup g, boolean grouped) {
        ObjectNode o = Json.object().put("index", g.index());
        if (grouped) {
            o.put("firstRecord", g.firstRecord()).put("records", g.records());
        }
        o.set("input", json(g.input()));
        return o;
    }

    /** The reply's body: JSON if it is JSON, else its text; null when empty. */
    static JsonNode output(byte[] stored) {
        if (stored == null) {
            return Json.MAPPER.nullNode();
        }
        JsonNode reply = json(stored);
        JsonNode b64 = reply.get("bodyBase64");
        byte[] body = b64 == null ? new byte[0] : Base64.getDecoder().decode(b64.asText());
        if (body.length == 0) {
            return Json.MAPPER.nullNode();
        }
        try {
            return STRICT.readTree(body);
        } catch (IOException e) {
            return TextNode.valueOf(new String(body, StandardCharsets.UTF_8));
        }
    }

    private static JsonNode json(byte[] b) {
        try {
            return Json.MAPPER.readTree(b);
        } catch (IOException e) {
            throw new UncheckedIOException("a stored job value is not JSON", e);
        }
    }

    private static byte[] bytes(ObjectNode o) {
        try {
            byte[] b = Json.MAPPER.writeValueAsBytes(o);
            byte[] line = java.util.Arrays.copyOf(b, b.length + 1);
            line[b.length] = '\n';
            return line;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
