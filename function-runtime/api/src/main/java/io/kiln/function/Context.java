package io.kiln.function;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/** What a handler may know about the call it is serving. One instance per call; not shared. */
public interface Context {

    /** The call id the platform assigned; unique per function, never 0. */
    long callId();

    /** The deployed function's name. */
    String functionName();

    /** The deployed function's version. */
    String functionVersion();

    /**
     * The wall-clock instant the call must finish by. Derived from the time left when the call
     * arrived, so it is right even if the guest clock was still being corrected at that moment.
     */
    Instant deadline();

    /** Time left before the deadline, never negative. Measured on the monotonic clock. */
    Duration remainingTime();

    /** A logger whose lines are attached to this call. */
    Logger logger();

    /** The function's configured environment (from deploy), immutable. */
    Map<String, String> environment();

    /** One variable of {@link #environment()}. */
    default Optional<String> env(String name) {
        return Optional.ofNullable(environment().get(name));
    }
}
