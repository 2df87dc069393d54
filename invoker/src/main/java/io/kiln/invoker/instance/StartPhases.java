package io.kiln.invoker.instance;

/**
 * Where one instance's start went, in microseconds: the engine's share, then the agent's. Set
 * once by {@link InstanceLauncher} on the thread that started the instance, read by whoever
 * reports the start (a cold call's timings, the benchmarks).
 *
 * @param engineUs    the engine making a running VM: a restore from the snapshot files until the
 *                    vCPUs run, a boot until the kernel is started, or the agent process spawned
 * @param agentUs     from then until the agent was ready: the RESTORED round trip after a
 *                    restore; READY, and LOAD to INITIALIZED, after a boot
 * @param agentWorkUs the agent's own account of its RESTORED work (its {@code restoreUs}), or -1
 */
public record StartPhases(long engineUs, long agentUs, long agentWorkUs) {

    /** A warm call, or an instance whose start was not measured. */
    public static final StartPhases NONE = new StartPhases(0, 0, -1);
}
