package io.kiln.invoker.call;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A function's answer.
 *
 * @param metadata the RESULT metadata: {@code contentType}, or {@code http} ({@code status},
 *                 {@code headers}), and {@code durationUs}
 * @param timings  where the time went, for the caller's response headers and the benchmarks
 */
public record CallResult(long callId, String function, long version, byte[] body, ObjectNode metadata,
                         CallTimings timings) {
}
