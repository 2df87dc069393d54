package io.kiln.agent.load;

import java.net.URLClassLoader;

/**
 * An initialised function: what a call needs. Created on the function thread, handed to the
 * dispatcher in an event, read-only from then on.
 *
 * @param hooksFrom index into {@code Kiln.registered()} of the first hook this function
 *                  registered (earlier ones belong to whoever ran in this JVM before)
 */
public record LoadedFunction(LoadSpec spec, URLClassLoader loader, ResolvedHandler handler,
                             int hooksFrom) {
}
