package io.kiln.agent.load;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * The function's jar on disk and the class loader over it.
 *
 * <p>Accepted layouts: a plain or shaded ("fat") jar, and the AWS Lambda zip layout where
 * dependency jars sit under {@code lib/} next to the function's classes. Nested jars are
 * unpacked next to the main jar, since {@link URLClassLoader} cannot read jars inside jars.
 * A file, not memory: resources, {@code ServiceLoader} and code sources then work unchanged.
 */
public final class FunctionJar {

    private FunctionJar() {
    }

    /** Writes {@code jar} under {@code dir} and returns a loader whose parent is API-only. */
    public static URLClassLoader open(Path dir, byte[] jar, ClassLoader apiParent)
            throws IOException {
        Files.createDirectories(dir);
        Path main = dir.resolve("function.jar");
        Files.write(main, jar);
        List<URL> urls = new ArrayList<>();
        urls.add(main.toUri().toURL());
        try (JarFile file = new JarFile(main.toFile())) {
            for (JarEntry e : java.util.Collections.list(file.entries())) {
                String name = e.getName();
                if (!e.isDirectory() && name.startsWith("lib/") && name.endsWith(".jar")
                        && name.indexOf('/', 4) < 0) {
                    Path nested = dir.resolve("lib").resolve(name.substring(4));
                    Files.createDirectories(nested.getParent());
                    try (InputStream in = file.getInputStream(e)) {
                        Files.copy(in, nested);
                    }
                    urls.add(nested.toUri().toURL());
                }
            }
        }
        return new URLClassLoader("kiln-function", urls.toArray(URL[]::new), apiParent);
    }
}
