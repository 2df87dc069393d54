package io.kiln.queue.topic;

import java.time.Duration;
import java.time.Instant;
import java.util.regex.Pattern;

/**
 * A function bound to a topic. Its deliveries are queue items whose source is
 * {@link #source()}; they run under the function's event policy.
 *
 * @param batchSize   SQS shape: the most events one call gets (1 to 10, as SQS allows); 1 for plain
 * @param batchWindow SQS shape: how long a batch waits for more events before it runs, like
 *                    Lambda's MaximumBatchingWindowInSeconds (0 to 5 min); a full batch runs at
 *                    once. Zero for plain
 */
public record Subscription(long id, String topic, String name, String function, Filter filter, Shape shape,
                           int batchSize, Duration batchWindow, Instant createdAt, Instant updatedAt) {

    /** Topic and subscription names: what fits in a URL path segment and a queue item's source unescaped. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    public static final int MAX_BATCH = 10;
    public static final Duration MAX_WINDOW = Duration.ofMinutes(5);
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
        if (batchWindow == null || batchWindow.isNegative() || batchWindow.compareTo(MAX_WINDOW) > 0
                || (shape == Shape.PLAIN && !batchWindow.isZero())) {
            throw new IllegalArgumentException(shape == Shape.PLAIN ? "batchWindow is only for shape sqs"
                    : "batchWindow must be between 0 and 5m, got " + (batchWindow == null ? "nothing"
                    : batchWindow.toMillis() + " ms"));
        }
        batchWindow = Duration.ofMillis(batchWindow.toMillis());
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
