package io.kiln.agent.load;

import io.kiln.agent.lambda.EventSerializers;

/**
 * An initialised function: what a call needs. Created on the function thread, handed to the
 * dispatcher in an event, read-only from then on.
 *
 * @param hooksFrom index into {@code Kiln.registered()} of the first hook this function
 *                  registered (earlier ones belong to whoever ran in this JVM before)
 * @param events    AWS's serializers for the handler's event types, made during init
 */
public record LoadedFunction(LoadSpec spec, ClassLoader loader, ResolvedHandler handler,
                             int hooksFrom, EventSerializers events) {
}
