package io.kiln.queue.job;

/**
 * One group of a job's records as stored: what one call received, and how it ended.
 *
 * @param output   SUCCEEDED: the function's reply as the queue stores it (JSON)
 * @param attempts attempts its last queue item made
 */
public record JobGroup(long jobId, long index, long firstRecord, int records, byte[] input, String state,
                       byte[] output, String errorCode, String errorMessage, String errorType, int attempts) {
}
