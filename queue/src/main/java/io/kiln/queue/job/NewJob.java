package io.kiln.queue.job;

import io.kiln.queue.RetryPolicy;

import java.util.List;

/**
 * A job to submit: its data set already cut into groups, each what one call receives.
 *
 * @param groups       each group's input (one record as JSON, or a JSON array of
 *                     {@code recordsPerCall} records; the last group may hold fewer)
 * @param totalRecords records in all groups
 */
public record NewJob(long id, String function, int recordsPerCall, int maxConcurrency, Tolerance tolerance,
                     RetryPolicy policy, List<byte[]> groups, long totalRecords) {

    public static final int MAX_RECORDS_PER_CALL = 10_000;
    public static final int MAX_CONCURRENCY = 1_000;

    public NewJob {
        if (function == null || tolerance == null || policy == null || groups == null) {
            throw new IllegalArgumentException("function, tolerance, policy and groups are required");
        }
        if (recordsPerCall < 1 || recordsPerCall > MAX_RECORDS_PER_CALL) {
            throw new IllegalArgumentException("recordsPerCall must be between 1 and " + MAX_RECORDS_PER_CALL
                    + ", got " + recordsPerCall);
        }
        if (maxConcurrency < 1 || maxConcurrency > MAX_CONCURRENCY) {
            throw new IllegalArgumentException("maxConcurrency must be between 1 and " + MAX_CONCURRENCY + ", got "
                    + maxConcurrency);
        }
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("the data set has no records");
        }
        long expected = (totalRecords + recordsPerCall - 1) / recordsPerCall;
        if (expected != groups.size()) {
            throw new IllegalArgumentException(totalRecords + " records in groups of " + recordsPerCall + " make "
                    + expected + " groups, not " + groups.size());
        }
    }

    /** Records in group {@code index}. */
    int records(int index) {
        return (int) Math.min(recordsPerCall, totalRecords - (long) index * recordsPerCall);
    }
}
