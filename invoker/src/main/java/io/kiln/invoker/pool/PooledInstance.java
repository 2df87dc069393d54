package io.kiln.invoker.pool;

import io.kiln.invoker.instance.Instance;

/** A ready instance and what it costs the pool's memory budget. */
public record PooledInstance(PoolKey key, Instance instance, int memoryMib) {
}
