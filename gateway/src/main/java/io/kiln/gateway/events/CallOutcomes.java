package io.kiln.gateway.events;

import io.kiln.invoker.call.CallException;

import java.util.Set;

/**
 * What becomes of a queued call that did not succeed, by its error code: the one rule each
 * outcome has (docs/API.md, "What is retried"). A code not listed is retried: the platform
 * cannot know that trying again will not help.
 */
final class CallOutcomes {

    /** The same input fails the same way, or there is nothing left to call: dead-lettered at once. */
    static final Set<String> NEVER_RETRIED = Set.of("bad_input", CallException.Codes.NOT_FOUND, "result_too_large");

    /** The call never reached an instance: back in the queue after a short delay, not counted as an attempt. */
    static final Set<String> NOT_RUN = Set.of(CallException.Codes.QUEUE_FULL, CallException.Codes.QUEUE_TIMEOUT,
            CallException.Codes.SHUTTING_DOWN);

    private CallOutcomes() {
    }

    static boolean retryable(String code) {
        return !NEVER_RETRIED.contains(code);
    }

    static boolean notRun(String code) {
        return NOT_RUN.contains(code);
    }
}
