package io.kiln.gateway.topics;

import io.kiln.gateway.events.ResultCheck;
import io.kiln.gateway.http.Reply;
import io.kiln.queue.QueueItem;
import io.kiln.queue.RetryPolicy;
import io.kiln.queue.topic.CloudEvent;
import io.kiln.queue.topic.Deliveries;
import io.kiln.queue.topic.Filter;
import io.kiln.queue.topic.Shape;
import io.kiln.queue.topic.Subscription;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Which replies of an SQS batch are success, partial failure or malformed. */
class SqsBatchResponsesTest {

    static final Subscription SUB = new Subscription(7, "t", "s", "f", Filter.ALL, Shape.SQS, 10, Duration.ZERO,
            Instant.EPOCH, Instant.EPOCH);

    static byte[] batch(int n) {
        byte[] b = null;
        for (int i = 0; i < n; i++) {
            CloudEvent e = new CloudEvent("e" + i, "/s", "t", null, null, null, null, Map.of(),
                    ("m" + i).getBytes(StandardCharsets.UTF_8), false);
            b = b == null ? Deliveries.sqsBatch(Deliveries.sqsRecord(e, SUB, 0))
                    : Deliveries.sqsAppend(b, Deliveries.sqsRecord(e, SUB, 0));
        }
        return b;
    }

    static QueueItem item(String source, byte[] input) {
        return new QueueItem(1, QueueItem.Kind.CALL, "f", QueueItem.State.RUNNING, input, null, null, null, source,
                RetryPolicy.DEFAULT, 1, 1, Instant.EPOCH, Instant.EPOCH, Instant.EPOCH, null, "n", null, null, null,
                null);
    }

    static ResultCheck.Retry check(byte[] input, String reply) {
        return new SqsBatchResponses().check(item(SUB.source(), input), new Reply(200, List.of(), null,
                reply.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void successIsNoBodyNullAnEmptyObjectOrNoFailures() {
        byte[] b = batch(2);
        for (String ok : List.of("", "null", "{}", "{\"batchItemFailures\":[]}", "{\"batchItemFailures\":null}")) {
            assertNull(check(b, ok), ok);
        }
    }

    @Test
    void namedRecordsAloneAreRetried() {
        byte[] b = batch(3);
        List<String> ids = Deliveries.sqsMessageIds(b);
        ResultCheck.Retry r = check(b, "{\"batchItemFailures\":[{\"itemIdentifier\":\"" + ids.get(2) + "\"},"
                + "{\"itemIdentifier\":\"" + ids.get(0) + "\"}]}");
        assertEquals(SqsBatchResponses.PARTIAL, r.failure().code());
        assertEquals("2 of 3 records failed: " + ids.get(2) + ", " + ids.get(0) + "; only they are retried",
                r.failure().message());
        assertEquals(List.of(ids.get(0), ids.get(2)), Deliveries.sqsMessageIds(r.input()), "in the batch's order");
    }

    @Test
    void aMalformedReplyFailsTheWholeBatch() {
        byte[] b = batch(2);
        String id = Deliveries.sqsMessageIds(b).get(0);
        Map<String, String> cases = Map.of(
                "not json", "it is not JSON",
                "[1]", "it is not a JSON object",
                "{\"batchItemFailures\":[],\"x\":1}", "it has \"x\"; a response has only batchItemFailures",
                "{\"batchItemFailures\":{}}", "batchItemFailures is not a list",
                "{\"batchItemFailures\":[{\"itemIdentifier\":\"\"}]}", "a batchItemFailures entry lacks a non-empty itemIdentifier",
                "{\"batchItemFailures\":[{\"id\":\"" + id + "\"}]}", "a batchItemFailures entry lacks a non-empty itemIdentifier",
                "{\"batchItemFailures\":[{\"itemIdentifier\":\"nope\"}]}", "itemIdentifier nope names no record of the batch");
        cases.forEach((reply, why) -> {
            ResultCheck.Retry r = check(b, reply);
            assertEquals(SqsBatchResponses.MALFORMED, r.failure().code(), reply);
            assertEquals("the reply is not a valid SQSBatchResponse (" + why + "), so the whole batch of 2 records"
                    + " failed", r.failure().message());
            assertNull(r.input(), "the input stays the whole batch");
        });
    }

    @Test
    void itemsThatAreNotSqsTopicDeliveriesAreNotItsBusiness() {
        assertNull(new SqsBatchResponses().check(item("api", batch(1)), new Reply(200, List.of(), null,
                "garbage".getBytes(StandardCharsets.UTF_8))));
        assertNull(new SqsBatchResponses().check(item(SUB.source(), "{\"specversion\":\"1.0\"}".getBytes(
                StandardCharsets.UTF_8)), new Reply(200, List.of(), null, "garbage".getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void binaryModeHeaderValuesArePercentDecoded() {
        assertEquals("eu/1 €+", CloudEventsHttp.percentDecode("eu%2F1 %E2%82%AC+", "h"));
        assertEquals("the ce-x header has a '%' that is not followed by two hex digits",
                org.junit.jupiter.api.Assertions.assertThrows(io.kiln.gateway.http.ApiError.class,
                        () -> CloudEventsHttp.percentDecode("a%2", "the ce-x header")).getMessage());
    }
}
