package io.kiln.invoker.pool;

/** One version of one function: instances are interchangeable only within a key. */
public record PoolKey(String function, long version) {
    @Override
    public String toString() {
        return function + "@" + version;
    }
}
