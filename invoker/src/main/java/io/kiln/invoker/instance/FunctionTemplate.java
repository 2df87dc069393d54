package io.kiln.invoker.instance;

import io.kiln.invoker.store.FunctionVersion;

import java.nio.file.Path;

/**
 * What instances of one function version are started from: its function snapshot on a VM
 * engine, or (process engine, no snapshots) its jar, loaded afresh by every instance.
 *
 * @param snapshot the function snapshot directory; null on an engine without snapshots
 */
public record FunctionTemplate(FunctionVersion version, Path jar, Path snapshot) {
}
