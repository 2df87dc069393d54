package io.kiln.invoker.engine;

import io.kiln.microvm.probe.KvmProbeResult;

/** The engine in use, why it was chosen, and what the host probe found (shown by /healthz). */
public record EngineChoice(Engine engine, String reason, KvmProbeResult probe) {
}
