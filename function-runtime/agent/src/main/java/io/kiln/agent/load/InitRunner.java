package io.kiln.agent.load;

import io.kiln.agent.ErrorReport;
import io.kiln.agent.lambda.EventSerializers;
import io.kiln.function.Kiln;
import io.kiln.function.Lifecycle;

import java.io.IOException;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.List;

/**
 * A function's init, on the function thread: jar to class loader, static initialisers,
 * construction, then the before-snapshot (priming) hooks in reverse registration order, then
 * AWS's serializers for the handler's event types, if it takes or returns any. Fatal
 * errors ({@link ErrorReport#isFatal}) pass through; everything else becomes an
 * {@link InitFailure} naming the phase.
 */
public final class InitRunner {

    private final Path workDir;
    private final ClassLoader agentLoader;
    private final HandlerResolver resolver;

    public InitRunner(Path workDir, ClassLoader agentLoader, HandlerResolver resolver) {
        this.workDir = workDir;
        this.agentLoader = agentLoader;
        this.resolver = resolver;
    }

    /** The agent's init: the jar into its own loader (API-only parent), then {@link #init(LoadSpec, ClassLoader)}. */
    public LoadedFunction init(LoadSpec spec, byte[] jar) throws InitFailure {
        URLClassLoader loader;
        try {
            loader = FunctionJar.open(workDir, jar, new ApiOnlyClassLoader(agentLoader));
        } catch (IOException e) {
            throw new InitFailure("load", "the function jar cannot be read: " + e.getMessage(), e);
        }
        return init(spec, loader);
    }

    /**
     * Init from a loader that already has the function's classes: the agent's jar loader, or
     * the test kit's, which is the unit test's own class path. Everything after the loader
     * (static init, construction, hooks, serializers) is the same for both.
     */
    public LoadedFunction init(LoadSpec spec, ClassLoader loader) throws InitFailure {
        int hooksFrom = Kiln.registered().size();
        Thread.currentThread().setContextClassLoader(loader);
        ResolvedHandler handler;
        try {
            handler = resolver.resolve(loader, spec);
        } catch (InitFailure e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            throw new InitFailure("handler", "cannot resolve " + spec.handler() + ": " + e, e);
        }
        if (handler.target() instanceof Lifecycle l) {
            Kiln.register(l);
        }
        List<Lifecycle> hooks = Kiln.registered();
        for (int i = hooks.size() - 1; i >= hooksFrom; i--) {
            try {
                hooks.get(i).beforeSnapshot();
            } catch (Throwable t) {
                ErrorReport.rethrowIfFatal(t);
                throw new InitFailure("prime", "a before-snapshot hook failed: " + t, t);
            }
        }
        // Before the snapshot, so that no restored clone pays for AWS's Jackson on its first call.
        EventSerializers events = new EventSerializers();
        events.prime(handler.inputType().getRawClass());
        events.prime(handler.outputType().getRawClass());
        return new LoadedFunction(spec, loader, handler, hooksFrom, events);
    }
}
