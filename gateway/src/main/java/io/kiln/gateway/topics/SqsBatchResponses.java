package io.kiln.gateway.topics;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.gateway.events.ResultCheck;
import io.kiln.gateway.http.Json;
import io.kiln.gateway.http.Reply;
import io.kiln.queue.Failure;
import io.kiln.queue.QueueItem;
import io.kiln.queue.topic.Deliveries;
import io.kiln.queue.topic.Subscription;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Partial batch failures of SQS-shaped topic deliveries, as Lambda's ReportBatchItemFailures
 * honours them. The reply of a call whose input is an {@code SQSEvent} batch is read as an
 * {@code SQSBatchResponse}:
 *
 * <ul>
 *   <li>no body, {@code null}, {@code {}}, or an empty or null {@code batchItemFailures}: the
 *       whole batch succeeded;</li>
 *   <li>{@code {"batchItemFailures": [{"itemIdentifier": "<messageId>"}, ...]}} naming records of
 *       the batch: the call failed, and only those records are retried (the item's input becomes
 *       them);</li>
 *   <li>anything else (not JSON, another shape, an identifier that is empty or names no record of
 *       the batch): the reply is malformed and the whole batch is retried.</li>
 * </ul>
 */
public final class SqsBatchResponses implements ResultCheck {

    public static final String PARTIAL = "partial_batch_failure";
    public static final String MALFORMED = "bad_batch_response";

    @Override
    public Retry check(QueueItem item, Reply reply) {
        if (!item.source().startsWith(Subscription.SOURCE_PREFIX) || !Deliveries.isSqsBatch(item.input())) {
            return null;
        }
        List<String> ids = Deliveries.sqsMessageIds(item.input());
        Set<String> failed;
        try {
            failed = failures(reply.body(), Set.copyOf(ids));
        } catch (IllegalArgumentException e) {
            return new Retry(new Failure(MALFORMED, "the reply is not a valid SQSBatchResponse (" + e.getMessage()
                    + "), so the whole batch of " + ids.size() + " records failed", true), null);
        }
        if (failed.isEmpty()) {
            return null;
        }
        if (failed.size() == ids.size()) {
            // Nothing to take out: the batch stays as it is.
            return new Retry(new Failure(PARTIAL, "all " + ids.size() + " records failed: " + String.join(", ", failed),
                    true), null);
        }
        return new Retry(new Failure(PARTIAL, failed.size() + " of " + ids.size() + " records failed: "
                + String.join(", ", failed) + "; only they are retried", true),
                Deliveries.sqsKeep(item.input(), failed));
    }

    /** The message ids the response names, in its order; throws with why it is malformed. */
    static Set<String> failures(byte[] body, Set<String> batch) {
        if (body == null || body.length == 0) {
            return Set.of();
        }
        JsonNode t;
        try {
            t = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            throw new IllegalArgumentException("it is not JSON");
        }
        if (t == null || t.isNull()) {
            return Set.of();
        }
        if (!t.isObject()) {
            throw new IllegalArgumentException("it is not a JSON object");
        }
        for (Iterator<String> names = t.fieldNames(); names.hasNext(); ) {
            String n = names.next();
            if (!n.equals("batchItemFailures")) {
                throw new IllegalArgumentException("it has \"" + n + "\"; a response has only batchItemFailures");
            }
        }
        JsonNode list = t.get("batchItemFailures");
        if (list == null || list.isNull()) {
            return Set.of();
        }
        if (!list.isArray()) {
            throw new IllegalArgumentException("batchItemFailures is not a list");
        }
        Set<String> out = new LinkedHashSet<>();
        List<String> unknown = new ArrayList<>();
        for (JsonNode f : list) {
            JsonNode id = f.get("itemIdentifier");
            if (!f.isObject() || id == null || !id.isTextual() || id.asText().isEmpty()) {
                throw new IllegalArgumentException("a batchItemFailures entry lacks a non-empty itemIdentifier");
            }
            if (!batch.contains(id.asText())) {
                unknown.add(id.asText());
            }
            out.add(id.asText());
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("itemIdentifier " + String.join(", ", unknown)
                    + " names no record of the batch");
        }
        return out;
    }
}
