package io.kiln.invoker.call;

import io.kiln.invoker.instance.StartPhases;

/**
 * Where one call's time went, in microseconds.
 *
 * @param cold     whether the call waited for a new instance (a restore, or a boot and load)
 * @param queuedUs admission to dispatch
 * @param startUs  the cold start (0 when warm)
 * @param invokeUs INVOKE sent to answer received
 * @param start    the cold start split into the engine's share and the agent's
 *                 ({@link StartPhases#NONE} when warm)
 */
public record CallTimings(boolean cold, long queuedUs, long startUs, long invokeUs, StartPhases start) {
}
