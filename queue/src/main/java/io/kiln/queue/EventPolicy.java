package io.kiln.queue;

/**
 * A function's rules for work that is not a synchronous call (async calls, schedule firings,
 * topic deliveries, batch records): how it is retried, and where the record of each ended call
 * goes. Set at deploy, shown by describe.
 *
 * @param onSuccess null, or where a succeeded call's record goes
 * @param onFailure null, or where a dead-lettered call's record goes
 */
public record EventPolicy(RetryPolicy retry, Destination onSuccess, Destination onFailure) {

    public static final EventPolicy DEFAULT = new EventPolicy(RetryPolicy.DEFAULT, null, null);

    public EventPolicy {
        if (retry == null) {
            throw new IllegalArgumentException("an event policy has a retry policy");
        }
    }

    public EventPolicy withRetry(RetryPolicy r) {
        return new EventPolicy(r, onSuccess, onFailure);
    }

    public EventPolicy withOnSuccess(Destination d) {
        return new EventPolicy(retry, d, onFailure);
    }

    public EventPolicy withOnFailure(Destination d) {
        return new EventPolicy(retry, onSuccess, d);
    }
}
