package io.kiln.queue.schedule;

import io.kiln.queue.QueueItem;

import java.time.Instant;

/**
 * One fire time of a schedule, handled once.
 *
 * @param callId ENQUEUED: the call's id; otherwise null
 * @param reason SKIPPED and MISSED: why nothing was enqueued; ENQUEUED: null, or a note that it
 *     stands for missed fire times
 * @param callState the call's state now, when read with its call and the call is still kept;
 *     else null
 * @param callAttempts the call's attempts so far (with {@code callState})
 */
public record Firing(String schedule, Instant fireTime, Instant firedAt, String node, Outcome outcome, Long callId,
                     String reason, QueueItem.State callState, int callAttempts) {

    public enum Outcome {
        /** A call was enqueued. */
        ENQUEUED,
        /** Nothing was enqueued: the previous run was still in progress (overlap skip), or the function is gone. */
        SKIPPED,
        /** Fire times missed while nothing fired, dropped by the misfire policy skip; recorded at the latest. */
        MISSED;

        public String text() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static Outcome of(String s) {
            return valueOf(s.toUpperCase(java.util.Locale.ROOT));
        }
    }
}
