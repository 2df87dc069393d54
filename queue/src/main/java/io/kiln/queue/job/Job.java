package io.kiln.queue.job;

import io.kiln.queue.RetryPolicy;

import java.time.Instant;

/**
 * A job as stored, at one moment. Counts are of records.
 *
 * @param queued     records whose calls are queued or running
 * @param cancelled  records never run because the job stopped
 * @param duplicates records that may have run more than once: their call was interrupted (its node
 *                   died, its lease ran out) and run again; once per interrupted attempt
 */
public record Job(long id, String function, State state, int recordsPerCall, int maxConcurrency,
                  Tolerance tolerance, RetryPolicy policy, long total, long groups, long done, long failed,
                  long queued, long cancelled, long duplicates, String stopReason, Instant createdAt,
                  Instant finishedAt) {

    public enum State {
        RUNNING, SUCCEEDED, FAILED, CANCELLED;

        public String sql() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static State of(String s) {
            return valueOf(s.toUpperCase(java.util.Locale.ROOT));
        }
    }

    /** Records not yet fed to the queue and not cancelled. */
    public long pending() {
        return total - done - failed - queued - cancelled;
    }

    /** Ended, with nothing of it still running. */
    public boolean settled() {
        return state != State.RUNNING && queued == 0;
    }
}
