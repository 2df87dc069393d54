package io.kiln.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.gateway.http.ApiError;
import io.kiln.gateway.http.Json;
import io.kiln.gateway.jobs.DataSet;
import io.kiln.gateway.jobs.InputDir;
import io.kiln.invoker.Invoker;
import io.kiln.invoker.call.CallRequest;
import io.kiln.invoker.store.FunctionVersion;
import io.kiln.queue.RetryPolicy;
import io.kiln.queue.job.NewJob;
import io.kiln.queue.job.Tolerance;
import io.vertx.core.MultiMap;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@code POST /v1/jobs} request read into a {@link NewJob}: either a JSON body
 * ({@code {"function", "input": {"jsonl"|"csv"|"file"}, ...}}) or, when the query names the
 * function, the raw data set as the body with the settings in the query (so a large data set
 * is never JSON-escaped). Blocking (a file input is read, the data set parsed): run it off the
 * event loop.
 */
final class JobSubmission {

    static final Set<String> FIELDS = Set.of("function", "input", "recordsPerCall", "maxConcurrency", "tolerate",
            "retry");
    static final Set<String> QUERY = Set.of("function", "format", "recordsPerCall", "maxConcurrency", "tolerate");
    static final Set<String> RETRY = Set.of("maxRetries", "retryBackoff", "maxRetryBackoff", "maxEventAge");
    static final int DEFAULT_CONCURRENCY = 10;

    private JobSubmission() {
    }

    /** The raw form: {@code ?function=F&format=jsonl|csv&recordsPerCall=&maxConcurrency=&tolerate=N|P%&maxRetries=...}. */
    static NewJob ofQuery(MultiMap q, byte[] data, Invoker invoker) {
        for (String name : q.names()) {
            if (!QUERY.contains(name) && !RETRY.contains(name)) {
                throw ApiError.badRequest("unknown parameter " + name + "; an upload takes function, format,"
                        + " recordsPerCall, maxConcurrency, tolerate, maxRetries, retryBackoff, maxRetryBackoff and"
                        + " maxEventAge");
            }
        }
        FunctionVersion fn = function(q.get("function"), invoker);
        if (q.get("format") == null) {
            throw ApiError.badRequest("format is required with an uploaded data set: jsonl or csv");
        }
        DataSet.Format format = DataSet.Format.of(q.get("format"));
        int perCall = q.get("recordsPerCall") == null ? 1 : DeployParams.integer("recordsPerCall", q.get("recordsPerCall"));
        int concurrency = q.get("maxConcurrency") == null ? DEFAULT_CONCURRENCY
                : DeployParams.integer("maxConcurrency", q.get("maxConcurrency"));
        Tolerance tolerance = q.get("tolerate") == null ? Tolerance.NONE : tolerance(q.get("tolerate"));
        MultiMap retry = MultiMap.caseInsensitiveMultiMap();
        for (String r : RETRY) {
            if (q.get(r) != null) {
                retry.add(r, q.get(r));
            }
        }
        return job(fn, format, data, perCall, concurrency, tolerance, retry);
    }

    /** The JSON form. */
    static NewJob ofJson(byte[] body, Invoker invoker, InputDir inputDir) {
        JsonNode tree;
        try {
            tree = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            throw ApiError.badRequest("the body must be a JSON object like {\"function\": \"f\", \"input\":"
                    + " {\"jsonl\": \"...\"}}, or the raw data set with ?function=F&format=jsonl|csv");
        }
        if (tree == null || !tree.isObject()) {
            throw ApiError.badRequest("the body must be a JSON object like {\"function\": \"f\", \"input\":"
                    + " {\"jsonl\": \"...\"}}");
        }
        for (Iterator<String> it = tree.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw ApiError.badRequest("unknown field " + f + "; a job has " + String.join(", ", List.of(
                        "function", "input", "recordsPerCall", "maxConcurrency", "tolerate", "retry")));
            }
        }
        JsonNode fnName = tree.get("function");
        FunctionVersion fn = function(fnName == null || !fnName.isTextual() ? null : fnName.asText(), invoker);
        int perCall = whole(tree, "recordsPerCall", 1);
        int concurrency = whole(tree, "maxConcurrency", DEFAULT_CONCURRENCY);
        Tolerance tolerance = tolerance(tree.get("tolerate"));
        MultiMap retry = MultiMap.caseInsensitiveMultiMap();
        JsonNode r = tree.get("retry");
        if (r != null && !r.isNull()) {
            if (!r.isObject()) {
                throw ApiError.badRequest("retry must be an object like {\"maxRetries\": 0}");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = r.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!RETRY.contains(e.getKey())) {
                    throw ApiError.badRequest("unknown retry field " + e.getKey() + "; retry has maxRetries,"
                            + " retryBackoff, maxRetryBackoff and maxEventAge");
                }
                retry.add(e.getKey(), e.getValue().asText());
            }
        }
        JsonNode input = tree.get("input");
        if (input == null || !input.isObject()) {
            throw ApiError.badRequest("input is required: {\"jsonl\": \"...\"}, {\"csv\": \"...\"} or {\"file\":"
                    + " \"relative/path\"}");
        }
        int kinds = (input.has("jsonl") ? 1 : 0) + (input.has("csv") ? 1 : 0) + (input.has("file") ? 1 : 0);
        if (kinds != 1) {
            throw ApiError.badRequest("input must have exactly one of jsonl, csv or file");
        }
        DataSet.Format format;
        byte[] data;
        if (input.has("file")) {
            String file = input.get("file").asText();
            format = input.has("format") ? DataSet.Format.of(input.get("format").asText()) : DataSet.Format.ofFile(file);
            data = inputDir.read(file);
        } else {
            format = input.has("jsonl") ? DataSet.Format.JSONL : DataSet.Format.CSV;
            JsonNode text = input.get(format == DataSet.Format.JSONL ? "jsonl" : "csv");
            if (!text.isTextual()) {
                throw ApiError.badRequest("input." + (format == DataSet.Format.JSONL ? "jsonl" : "csv")
                        + " must be a string holding the data set");
            }
            data = text.asText().getBytes(StandardCharsets.UTF_8);
        }
        return job(fn, format, data, perCall, concurrency, tolerance, retry);
    }

    private static NewJob job(FunctionVersion fn, DataSet.Format format, byte[] data, int perCall, int concurrency,
                              Tolerance tolerance, MultiMap retry) {
        if (perCall < 1 || perCall > NewJob.MAX_RECORDS_PER_CALL) {
            throw ApiError.badRequest("recordsPerCall must be between 1 and " + NewJob.MAX_RECORDS_PER_CALL
                    + ", got " + perCall);
        }
        if (concurrency < 1 || concurrency > NewJob.MAX_CONCURRENCY) {
            throw ApiError.badRequest("maxConcurrency must be between 1 and " + NewJob.MAX_CONCURRENCY + ", got "
                    + concurrency);
        }
        RetryPolicy policy;
        try {
            policy = DeployParams.events(retry, fn.config().events()).retry();
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        List<byte[]> records = DataSet.records(format, data);
        return new NewJob(CallRequest.newId(), fn.name(), perCall, concurrency, tolerance, policy,
                DataSet.groups(records, perCall), records.size());
    }

    private static FunctionVersion function(String name, Invoker invoker) {
        if (name == null || name.isBlank()) {
            throw ApiError.badRequest("function is required");
        }
        return invoker.current(name).orElseThrow(() -> ApiError.notFound("no function " + name));
    }

    private static int whole(JsonNode tree, String field, int otherwise) {
        JsonNode v = tree.get(field);
        if (v == null || v.isNull()) {
            return otherwise;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw ApiError.badRequest(field + " must be a whole number, got " + v);
        }
        return v.asInt();
    }

    /** {@code {"failures": N}} or {@code {"failurePercent": P}}; absent: no failure tolerated. */
    static Tolerance tolerance(JsonNode t) {
        if (t == null || t.isNull()) {
            return Tolerance.NONE;
        }
        String usage = "tolerate must be {\"failures\": N} or {\"failurePercent\": P}";
        if (!t.isObject() || t.size() != 1) {
            throw ApiError.badRequest(usage);
        }
        try {
            if (t.has("failures") && t.get("failures").isIntegralNumber()) {
                return Tolerance.failures(t.get("failures").asLong());
            }
            if (t.has("failurePercent") && t.get("failurePercent").isNumber()) {
                return Tolerance.percent(t.get("failurePercent").asDouble());
            }
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        throw ApiError.badRequest(usage);
    }

    /** The query form: {@code 10} (a count) or {@code 2.5%}. */
    static Tolerance tolerance(String v) {
        String s = v.strip();
        try {
            if (s.endsWith("%")) {
                return Tolerance.percent(Double.parseDouble(s.substring(0, s.length() - 1)));
            }
            return Tolerance.failures(Long.parseLong(s));
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("tolerate must be a count like 10 or a percentage like 5%, got \"" + v + "\"");
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
    }
}
