package io.kiln.queue.schedule;

import java.util.Locale;

/** What a firing's call receives as its input. */
public enum Shape {
    /** The schedule's input bytes, as given. */
    PLAIN,
    /**
     * An EventBridge {@code ScheduledEvent} for the fire time ({@link ScheduledEventJson}), so an
     * unchanged Lambda handler written for EventBridge schedules binds it.
     */
    EVENTBRIDGE;

    /** How the API, the CLI and the store spell it: {@code plain}, {@code eventbridge}. */
    public String text() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@link #text()}; the exception's message is meant for the user. */
    public static Shape of(String s) {
        for (Shape v : values()) {
            if (v.text().equals(s)) {
                return v;
            }
        }
        throw new IllegalArgumentException("shape: \"" + s + "\" is not a shape; allowed: plain, eventbridge");
    }
}
