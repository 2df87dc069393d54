package io.kiln.queue.topic;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.queue.Failure;
import io.kiln.queue.QueueItem;
import io.kiln.queue.QueueStore;
import io.kiln.queue.RetryPolicy;
import io.kiln.queue.db.Database;
import io.kiln.queue.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Subscriptions and publishing, the same on both stores: each subclass gives an empty store. */
abstract class TopicStoreContract {

    static final Instant T0 = Instant.parse("2026-11-30T12:00:00Z");
    static final RetryPolicy ORDERS_POLICY = new RetryPolicy(4, Duration.ofSeconds(2), Duration.ofSeconds(60),
            Duration.ofHours(1));
    static final RetryPolicy AUDIT_POLICY = new RetryPolicy(0, Duration.ofSeconds(1), Duration.ofSeconds(1),
            Duration.ZERO);

    final MutableClock clock = new MutableClock(T0);
    final AtomicLong ids = new AtomicLong(100);
    Database db;
    QueueStore queue;
    TopicStore topics;

    abstract String freshUrl() throws Exception;

    @BeforeEach
    void open() throws Exception {
        db = Database.open(freshUrl(), 4);
        queue = new QueueStore(db, clock, "node-a", new RandomGenerator() {
            @Override
            public long nextLong() {
                return 0;
            }

            @Override
            public double nextDouble() {
                return 0.5;
            }
        });
        topics = new TopicStore(queue, ids::incrementAndGet);
    }

    @AfterEach
    void close() {
        db.close();
    }

    static RetryPolicy policyOf(String function) {
        return function.equals("audit") ? AUDIT_POLICY : ORDERS_POLICY;
    }

    static CloudEvent event(String id, String type, String subject, Map<String, String> ext, String json) {
        return new CloudEvent(id, "/shop", type, subject, null, json == null ? null : "application/json", null, ext,
                json == null ? null : json.getBytes(StandardCharsets.UTF_8), json != null);
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    List<TopicStore.Delivery> publish(String topic, CloudEvent e) throws Exception {
        return topics.publish(topic, e, TopicStoreContract::policyOf);
    }

    @Test
    void anEventFansOutToEveryMatchingSubscriptionAsItsOwnItem() throws Exception {
        Subscription all = topics.put("orders", "audit", "audit", Filter.ALL, Shape.PLAIN, 1, Duration.ZERO).subscription();
        Subscription cancels = topics.put("orders", "refunds", "refund", Filter.parse("{\"type\":\"order.cancelled\"}"),
                Shape.PLAIN, 1, Duration.ZERO).subscription();
        topics.put("orders", "eu", "eu", Filter.parse("{\"subject\":{\"prefix\":\"eu/\"}}"), Shape.PLAIN, 1, Duration.ZERO);
        topics.put("payments", "audit", "audit", Filter.ALL, Shape.PLAIN, 1, Duration.ZERO);

        List<TopicStore.Delivery> d = publish("orders", event("e1", "order.cancelled", "us/7", Map.of(),
                "{\"order\":7.50}"));
        assertEquals(List.of(all.id(), cancels.id()), d.stream().map(x -> x.subscription().id()).toList());
        QueueItem toAudit = queue.get(d.get(0).itemId());
        QueueItem toRefund = queue.get(d.get(1).itemId());
        assertEquals("audit", toAudit.function());
        assertEquals("refund", toRefund.function());
        assertEquals(all.source(), toAudit.source());
        assertEquals(String.format("topic:%016x", cancels.id()), toRefund.source());
        assertEquals(AUDIT_POLICY, toAudit.policy(), "each delivery runs under its own function's policy");
        assertEquals(ORDERS_POLICY, toRefund.policy());
        assertEquals(QueueItem.State.AVAILABLE, toRefund.state());
        String expected = "{\"specversion\":\"1.0\",\"id\":\"e1\",\"source\":\"/shop\",\"type\":\"order.cancelled\","
                + "\"subject\":\"us/7\",\"datacontenttype\":\"application/json\",\"data\":{\"order\":7.50}}";
        assertEquals(expected, text(toAudit.input()));
        assertEquals(expected, text(toRefund.input()));
        assertEquals(2, queue.stats().available(), "nothing for the eu subscription or the other topic");
    }

    @Test
    void filtersMatchExactValuesPrefixesAndExtensionsAndAllOfThem() throws Exception {
        topics.put("t", "none", "f", Filter.ALL, Shape.PLAIN, 1, Duration.ZERO);
        topics.put("t", "exact", "f", Filter.parse("{\"type\":\"order.created\"}"), Shape.PLAIN, 1, Duration.ZERO);
        topics.put("t", "prefix", "f", Filter.parse("{\"subject\":{\"prefix\":\"eu/\"}}"), Shape.PLAIN, 1, Duration.ZERO);
        topics.put("t", "ext", "f", Filter.parse("{\"region\":\"eu\"}"), Shape.PLAIN, 1, Duration.ZERO);
        topics.put("t", "both", "f", Filter.parse("{\"type\":\"order.created\",\"source\":{\"prefix\":\"/sh\"}}"),
                Shape.PLAIN, 1, Duration.ZERO);

        assertEquals(List.of("both", "exact", "none"), names(publish("t", event("1", "order.created", null,
                Map.of(), null))));
        assertEquals(List.of("none", "prefix"), names(publish("t", event("2", "order.created.v2", "eu/1",
                Map.of(), null))), "exact is exact: order.created.v2 is not order.created");
        assertEquals(List.of("ext", "none"), names(publish("t", event("3", "x", "eu", Map.of("region", "eu"),
                null))), "subject \"eu\" lacks the prefix \"eu/\"");
        assertEquals(List.of("none"), names(publish("t", event("4", "x", null, Map.of("region", "us"), null))));
        assertEquals(List.of(), names(publish("other", event("5", "order.created", "eu/1", Map.of(), null))));
    }

    private static List<String> names(List<TopicStore.Delivery> d) {
        return d.stream().map(x -> x.subscription().name()).sorted().toList();
    }

    @Test
    void aDeletedSubscriptionReceivesNothingMore() throws Exception {
        topics.put("t", "keep", "f", Filter.ALL, Shape.PLAIN, 1, Duration.ZERO);
        Subscription gone = topics.put("t", "gone", "g", Filter.ALL, Shape.PLAIN, 1, Duration.ZERO).subscription();
        long pending = publish("t", event("1", "x", null, Map.of(), null)).stream()
                .filter(d -> d.subscription().name().equals("gone")).findFirst().orElseThrow().itemId();

        TopicStore.Deleted deleted = topics.delete("t", "gone");
        assertEquals(gone.id(), deleted.subscription().id());
        assertEquals(1, deleted.cancelled());
        QueueItem cancelled = queue.get(pending);
        assertEquals(QueueItem.State.CANCELLED, cancelled.state());
        assertEquals("subscription gone of topic t was deleted before this ran", cancelled.errorMessage());
        assertEquals(List.of("keep"), names(publish("t", event("2", "x", null, Map.of(), null))));
        assertNull(topics.delete("t", "gone"));
        assertNull(topics.get("t", "gone"));
        assertEquals(List.of("keep"), topics.list().stream().map(Subscription::name).toList());
    }

    @Test
    void aPutWithTheSameNameReplacesTheSubscriptionAndKeepsItsId() throws Exception {
        TopicStore.Put first = topics.put("t", "s", "f", Filter.ALL, Shape.PLAIN, 1, Duration.ZERO);
        assertTrue(first.created());
        clock.advance(Duration.ofSeconds(5));
        TopicStore.Put again = topics.put("t", "s", "g", Filter.parse("{\"type\":\"a\"}"), Shape.SQS, 4, Duration.ofSeconds(3));
        assertFalse(again.created());
        Subscription s = again.subscription();
        assertEquals(first.subscription().id(), s.id());
        assertEquals("g", s.function());
        assertEquals("{\"type\":\"a\"}", s.filter().toJson().toString());
        assertEquals(Shape.SQS, s.shape());
        assertEquals(4, s.batchSize());
        assertEquals(Duration.ofSeconds(3), s.batchWindow());
        assertEquals(T0, s.createdAt());
        assertEquals(T0.plusSeconds(5), s.updatedAt());
        assertEquals(1, topics.list().size());
    }

    @Test
    void sqsEventsJoinTheNewestBatchNotYetStartedUpToItsSize() throws Exception {
        Subscription s = topics.put("orders", "q", "f", Filter.ALL, Shape.SQS, 3, Duration.ZERO).subscription();
        long first = publish("orders", event("1", "x", null, Map.of(), "\"a\"")).get(0).itemId();
        assertEquals(first, publish("orders", event("2", "x", null, Map.of(), "\"b\"")).get(0).itemId());
        TopicStore.Delivery third = publish("orders", event("3", "x", null, Map.of(), "\"c\"")).get(0);
        assertEquals(first, third.itemId());
        assertTrue(third.batched());
        long second = publish("orders", event("4", "x", null, Map.of(), "\"d\"")).get(0).itemId();
        assertTrue(second != first, "a full batch takes no more");

        JsonNode batch = Filter.MAPPER.readTree(queue.get(first).input());
        assertEquals(3, batch.get("Records").size());
        JsonNode r = batch.get("Records").get(0);
        assertEquals("\"a\"", r.get("body").asText());
        assertEquals("aws:sqs", r.get("eventSource").asText());
        assertEquals("arn:kiln:sqs:local:0:orders", r.get("eventSourceARN").asText());
        assertEquals("local", r.get("awsRegion").asText());
        assertEquals("1", r.get("attributes").get("ApproximateReceiveCount").asText());
        assertEquals(String.valueOf(T0.toEpochMilli()), r.get("attributes").get("SentTimestamp").asText());
        assertEquals("x", r.get("messageAttributes").get("ce-type").get("stringValue").asText());
        assertEquals("1", r.get("messageAttributes").get("ce-id").get("stringValue").asText());
        assertEquals("c8a4fb76aa3ffdcd1a1ab1fa8fb1a1e0".length(), r.get("md5OfBody").asText().length());
        assertEquals(s.source(), queue.get(first).source());

        // The batches run oldest first; once the second is claimed, a new event starts a third.
        assertEquals(List.of(first, second), queue.claim("w", 10, Duration.ofSeconds(30)).stream()
                .map(QueueItem::id).toList());
        long third2 = publish("orders", event("5", "x", null, Map.of(), "\"e\"")).get(0).itemId();
        assertTrue(third2 != first && third2 != second, "a batch a worker holds takes no more");
        assertEquals(1, Deliveries.sqsSize(queue.get(third2).input()));
        assertEquals(1, Deliveries.sqsSize(queue.get(second).input()));
    }

    @Test
    void aBatchWaitsOutItsWindowForMoreEventsUnlessItFills() throws Exception {
        topics.put("orders", "q", "f", Filter.ALL, Shape.SQS, 2, Duration.ofSeconds(10));
        long first = publish("orders", event("1", "x", null, Map.of(), "1")).get(0).itemId();
        assertEquals(T0.plusSeconds(10), queue.get(first).runAt());
        assertEquals(List.of(), queue.claim("w", 10, Duration.ofSeconds(30)), "not before its window ends");
        clock.advance(Duration.ofSeconds(1));
        assertEquals(first, publish("orders", event("2", "x", null, Map.of(), "2")).get(0).itemId());
        assertEquals(T0.plusSeconds(1), queue.get(first).runAt(), "full: it runs now");
        assertEquals(List.of(first), queue.claim("w", 10, Duration.ofSeconds(30)).stream().map(QueueItem::id).toList());

        long lone = publish("orders", event("3", "x", null, Map.of(), "3")).get(0).itemId();
        clock.advance(Duration.ofSeconds(10));
        assertEquals(List.of(lone), queue.claim("w", 10, Duration.ofSeconds(30)).stream().map(QueueItem::id).toList(),
                "a batch that never fills runs when its window ends");
        assertEquals(1, Deliveries.sqsSize(queue.get(lone).input()));
    }

    @Test
    void aPartlyFailedBatchIsRetriedWithOnlyItsFailedRecords() throws Exception {
        topics.put("orders", "q", "f", Filter.ALL, Shape.SQS, 10, Duration.ZERO);
        long id = 0;
        for (String body : List.of("\"ok\"", "\"bad\"", "\"ok\"")) {
            id = publish("orders", event(body, "x", null, Map.of(), body)).get(0).itemId();
        }
        QueueItem running = queue.claim("w", 10, Duration.ofSeconds(30)).get(0);
        List<String> messageIds = Deliveries.sqsMessageIds(running.input());
        assertEquals(3, messageIds.size());
        byte[] failedOnly = Deliveries.sqsKeep(running.input(), Set.of(messageIds.get(1)));
        QueueStore.Failed f = db.transaction(c -> queue.fail(c, running.id(), "w",
                new Failure("partial_batch_failure", "1 of 3 records failed", true), failedOnly));
        assertTrue(f.owned());
        assertFalse(f.dead());
        assertEquals(T0.plusMillis(1500), f.retryAt(), "the function's backoff: 2 s, jittered by the fixed 0.5");
        QueueItem retried = queue.get(id);
        assertEquals(QueueItem.State.AVAILABLE, retried.state());
        JsonNode records = Filter.MAPPER.readTree(retried.input()).get("Records");
        assertEquals(1, records.size());
        assertEquals(messageIds.get(1), records.get(0).get("messageId").asText());
        assertEquals("\"bad\"", records.get(0).get("body").asText());
        assertEquals("2", records.get(0).get("attributes").get("ApproximateReceiveCount").asText());
        assertEquals("partial_batch_failure", queue.attempts(id).get(0).errorCode());

        // A worker that no longer holds the item changes nothing.
        assertFalse(db.transaction(c -> queue.fail(c, running.id(), "w",
                new Failure("x", "y", true), new byte[]{1})).owned());
        assertEquals(1, Deliveries.sqsSize(queue.get(id).input()));
        // A retry is not a batch that takes new events.
        assertTrue(publish("orders", event("n", "x", null, Map.of(), "1")).get(0).itemId() != id);
    }
}
