package io.kiln.queue.schedule;

import java.time.Instant;

/**
 * A stored schedule: its definition and where it is in time.
 *
 * @param specAt when its spec was set (a rate's anchor)
 * @param lastScheduled the last fire time handled (fired, skipped or missed), or the time the
 *     spec was set if none yet
 * @param nextFireAt the next fire time, or null if it never fires again
 */
public record Schedule(ScheduleDefinition definition, Instant createdAt, Instant updatedAt, Instant specAt,
                       Instant lastScheduled, Instant nextFireAt) {

    public String name() {
        return definition.name();
    }

    /** The parsed spec, as it was checked when set. */
    public ScheduleSpec spec() {
        return ScheduleSpec.parse(definition.kind(), definition.value(), definition.zone(), specAt);
    }

    /** The queue items this schedule enqueues carry this source. */
    public static String source(String name) {
        return "schedule:" + name;
    }
}
