package io.kiln.agent.testing;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/** Where classes come from, to build the spawned agent's class path. */
public final class Classpath {

    private Classpath() {
    }

    /** The jar or directory {@code c} was loaded from. */
    public static Path of(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Exactly what the agent jar holds: the agent, the API, the protocol, Jackson with its
     * java.time module and AWS's Lambda event serialization. No test classes, no JUnit, no
     * Lambda core or events: the spawned agent sees what it sees in production. With
     * {@code kiln.test.agent.jar} set (the module's *IT tests), the shaded jar itself.
     */
    public static String agent() {
        String shaded = System.getProperty("kiln.test.agent.jar");
        if (shaded != null && !shaded.isEmpty()) {
            if (!java.nio.file.Files.isRegularFile(Path.of(shaded))) {
                throw new IllegalStateException("kiln.test.agent.jar names no file: " + shaded);
            }
            return shaded;
        }
        Set<String> entries = new LinkedHashSet<>();
        for (Class<?> c : new Class<?>[]{io.kiln.agent.Main.class, io.kiln.function.Handler.class,
                io.kiln.protocol.Frame.class, com.fasterxml.jackson.databind.ObjectMapper.class,
                com.fasterxml.jackson.core.JsonFactory.class,
                com.fasterxml.jackson.annotation.JsonProperty.class,
                com.fasterxml.jackson.datatype.jsr310.JavaTimeModule.class,
                com.amazonaws.services.lambda.runtime.serialization.PojoSerializer.class}) {
            entries.add(of(c).toString());
        }
        return String.join(File.pathSeparator, entries);
    }
}
