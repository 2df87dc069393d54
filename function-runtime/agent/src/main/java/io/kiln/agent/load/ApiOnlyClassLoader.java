package io.kiln.agent.load;

import java.io.IOException;
import java.net.URL;
import java.util.Collections;
import java.util.Enumeration;

/**
 * The parent of every function's class loader: it sees the JDK (boot and platform classes) and
 * the function API, nothing else. The agent's own classes and its Jackson stay invisible, so a
 * function may bundle any Jackson (or anything else) without clashing; and the API classes are
 * the agent's, so the agent and the function agree on what {@code Handler} is even when the
 * function's fat jar bundles its own copy of the API.
 */
public final class ApiOnlyClassLoader extends ClassLoader {

    static final String API_PACKAGE = "io.kiln.function.";
    private static final String API_PATH = "io/kiln/function/";

    static {
        registerAsParallelCapable();
    }

    private final ClassLoader agentLoader;

    /** @param agentLoader the loader that has the function API (the agent's own) */
    public ApiOnlyClassLoader(ClassLoader agentLoader) {
        super("kiln-api", ClassLoader.getPlatformClassLoader());
        this.agentLoader = agentLoader;
    }

    /** Called only after the platform loader missed: the API, or nothing. */
    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
        if (name.startsWith(API_PACKAGE)) {
            return agentLoader.loadClass(name);
        }
        throw new ClassNotFoundException(name);
    }

    @Override
    protected URL findResource(String name) {
        return name.startsWith(API_PATH) ? agentLoader.getResource(name) : null;
    }

    @Override
    protected Enumeration<URL> findResources(String name) throws IOException {
        return name.startsWith(API_PATH) ? agentLoader.getResources(name)
                : Collections.emptyEnumeration();
    }
}
