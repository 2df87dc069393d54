package io.kiln.microvm.files;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Directory trees the host makes and must not leave behind: work directories, snapshots. */
public final class FileTrees {

    private FileTrees() {
    }

    /**
     * Deletes {@code root} and everything below it, as far as it can (a file that vanishes or
     * cannot be deleted meanwhile is passed over); true if nothing of it is left.
     */
    public static boolean deleteQuietly(Path root) {
        if (!Files.exists(root)) {
            return true;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // Part of it went while it was walked; what is left is reported below.
        }
        return !Files.exists(root);
    }
}
