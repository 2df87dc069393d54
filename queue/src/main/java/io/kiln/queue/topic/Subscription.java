package io.kiln.queue.topic;

import java.time.Instant;
import java.util.regex.Pattern;

/**
 * A function bound to a topic. Its deliveries are queue items whose source is
 * {@link #source()}; they run under the function's event policy.
 *
 * @param batchSize SQS shape: the most events one call gets (1 to 10, as SQS allows); 1 for plain
 */
public record Subscription(long id, String topic, String name, String function, Filter filter, Shape shape,
                           int batchSize, Instant createdAt, Instant updatedAt) {

    /** Topic and subscription names: what fits in a URL path segment and a queue item's source unescaped. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    public static final int MAX_BATCH = 10;
    public static final String SOURCE_PREFIX = "topic:";

    public Subscription {
        checkName("topic", topic);
        checkName("subscription", name);
        if (function == null || function.isEmpty()) {
            throw new IllegalArgumentException("a subscription names a function");
        }
        if (filter == null || shape == null) {
            throw new IllegalArgumentException("a subscription has a filter and a shape");
        }
        if (batchSize < 1 || batchSize > MAX_BATCH || (shape == Shape.PLAIN && batchSize != 1)) {
            throw new IllegalArgumentException(shape == Shape.PLAIN ? "batchSize is only for shape sqs"
                    : "batchSize must be between 1 and " + MAX_BATCH + ", got " + batchSize);
        }
    }

    public static void checkName(String what, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a " + what + " name is 1 to 128 letters, digits, '.', '_' or '-',"
                    + " starting with a letter or digit; got \"" + name + "\"");
        }
    }

    /** The source of this subscription's queue items. */
    public String source() {
        return source(id);
    }

    public static String source(long id) {
        return SOURCE_PREFIX + String.format("%016x", id);
    }
}
