package io.kiln.queue.topic;

import java.util.Locale;

/** What a subscription's function receives. */
public enum Shape {
    /** One call per event, whose input is the event in CloudEvents' structured JSON form. */
    PLAIN,
    /**
     * An AWS {@code SQSEvent} of up to the subscription's batch size of events per call; an
     * {@code SQSBatchResponse} reply retries only the records it names.
     */
    SQS;

    public String sql() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Shape of(String s) {
        for (Shape v : values()) {
            if (v.sql().equals(s)) {
                return v;
            }
        }
        throw new IllegalArgumentException("shape must be plain or sqs, got \"" + s + "\"");
    }
}
