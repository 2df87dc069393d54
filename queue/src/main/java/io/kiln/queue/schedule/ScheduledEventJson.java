package io.kiln.queue.schedule;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/**
 * The EventBridge {@code ScheduledEvent} a firing of shape {@link Shape#EVENTBRIDGE} delivers,
 * in the exact JSON shape EventBridge sends, so that a Lambda {@code ScheduledEvent} handler
 * binds it unchanged (its {@code getTime()} is the fire time as a joda {@code DateTime}).
 *
 * <p>{@code source} is {@code aws.events}, as EventBridge's own scheduled events say: handlers
 * written for them check it (warm-up and routing code does), and Kiln's origin is in
 * {@code resources} ({@code kiln:schedule/<name>}). {@code account} and {@code region} are
 * placeholders ({@value #ACCOUNT}, {@value #REGION}): there is no AWS account.
 */
public final class ScheduledEventJson {

    public static final String ACCOUNT = "000000000000";
    public static final String REGION = "kiln";

    private ScheduledEventJson() {
    }

    /**
     * The event for {@code schedule}'s fire time. Schedule names are letters, digits and
     * {@code . _ -} ({@link ScheduleDefinition}), so no character needs escaping.
     *
     * @param id the event's id (a random UUID per firing; a retry of the call keeps it, as
     *     EventBridge's redeliveries do)
     */
    public static byte[] of(String schedule, Instant fireTime, UUID id) {
        String time = fireTime.truncatedTo(ChronoUnit.SECONDS).toString();
        String json = "{\"version\":\"0\",\"id\":\"" + id + "\",\"detail-type\":\"Scheduled Event\","
                + "\"source\":\"aws.events\",\"account\":\"" + ACCOUNT + "\",\"time\":\"" + time + "\","
                + "\"region\":\"" + REGION + "\",\"resources\":[\"kiln:schedule/" + schedule + "\"],"
                + "\"detail\":{}}";
        return json.getBytes(StandardCharsets.UTF_8);
    }
}
