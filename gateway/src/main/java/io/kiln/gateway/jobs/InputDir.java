package io.kiln.gateway.jobs;

import io.kiln.gateway.http.ApiError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * The directory the operator lets batch jobs read input files from ({@code --jobs-input-dir}).
 * A job names a file by a path relative to it; a path that leads out of it, by {@code ..} or
 * through a symbolic link, is refused, so a job can read nothing else on the server.
 */
public final class InputDir {

    private final Path root;

    /** @param root null: no directory was allowed, and file inputs are refused */
    public InputDir(Path root) {
        this.root = root;
    }

    /** The file's contents; blocks (call it off the event loop). */
    public byte[] read(String relative) {
        if (root == null) {
            throw ApiError.badRequest("file inputs are off: the server was started without --jobs-input-dir"
                    + " (KILN_JOBS_INPUT_DIR); upload the data set instead");
        }
        Path rel;
        try {
            rel = Path.of(relative);
        } catch (InvalidPathException e) {
            throw ApiError.badRequest("input.file is not a valid path: \"" + relative + "\"");
        }
        if (relative.isBlank() || rel.isAbsolute()) {
            throw ApiError.badRequest("input.file must be a path relative to the jobs input directory, got \""
                    + relative + "\"");
        }
        try {
            Path base = root.toRealPath();
            Path file = base.resolve(rel).normalize();
            if (!file.startsWith(base)) {
                throw ApiError.badRequest("input.file \"" + relative + "\" leads out of the jobs input directory");
            }
            if (!Files.exists(file)) {
                throw ApiError.badRequest("no input file \"" + relative + "\" in the jobs input directory");
            }
            Path real = file.toRealPath();
            if (!real.startsWith(base)) {
                throw ApiError.badRequest("input.file \"" + relative
                        + "\" is a link to a file out of the jobs input directory");
            }
            if (!Files.isRegularFile(real)) {
                throw ApiError.badRequest("input.file \"" + relative + "\" is not a regular file");
            }
            if (Files.size(real) > DataSet.MAX_BYTES) {
                throw ApiError.badRequest("input.file \"" + relative + "\" is larger than the limit of "
                        + DataSet.MAX_BYTES + " bytes");
            }
            return Files.readAllBytes(real);
        } catch (IOException e) {
            throw ApiError.badRequest("cannot read input file \"" + relative + "\": " + e.getMessage());
        }
    }
}
