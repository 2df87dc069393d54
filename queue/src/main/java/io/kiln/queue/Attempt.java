package io.kiln.queue;

import java.time.Instant;

/**
 * One attempt at an item, as the dead-letter record and {@code GET /v1/calls/{id}} show it.
 *
 * @param outcome null while it runs; else succeeded, failed or interrupted (its node stopped
 *                renewing the lease: killed, or cut off from the store)
 */
public record Attempt(int seq, String node, Instant startedAt, Instant endedAt, String outcome, String errorCode,
                      String errorMessage, String errorType) {
}
