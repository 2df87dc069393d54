package io.kiln.agent.call;

import io.kiln.function.Context;
import io.kiln.function.Logger;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * The Kiln {@link Context} of one call. The deadline is kept on the monotonic clock: a restored
 * guest's wall clock may jump when RESTORED corrects it, the deadline must not.
 *
 * @param deadlineNanos {@link System#nanoTime()} value of the deadline
 * @param deadline      the same instant on the wall clock, as of the call's start
 * @param startTime     the wall clock at the call's start
 */
public record CallContext(long callId, String functionName, String functionVersion,
                          long deadlineNanos, Instant deadline, Instant startTime, Logger logger,
                          Map<String, String> environment) implements Context {

    /** A context for a call whose deadline is {@code deadlineNanos} on the monotonic clock. */
    public static CallContext create(long callId, String function, String version,
                                     long deadlineNanos, Logger logger, Map<String, String> env) {
        long left = Math.max(0, deadlineNanos - System.nanoTime());
        Instant now = Instant.now();
        return new CallContext(callId, function, version, deadlineNanos, now.plusNanos(left), now,
                logger, env);
    }

    /** The call id as the platform shows it (16 lowercase hex digits): Lambda's request id. */
    public String requestId() {
        return String.format("%016x", callId);
    }

    @Override
    public Duration remainingTime() {
        return Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime()));
    }

    @Override
    public String toString() {
        return "Context[call=" + Long.toUnsignedString(callId) + ", function=" + functionName
                + ":" + functionVersion + ", remaining=" + remainingTime().toMillis() + " ms]";
    }
}
