package io.kiln.queue.catalog;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One version of a function as the catalog holds it.
 *
 * @param name        the function's name
 * @param version     its number, 1 or more
 * @param jarSha256   the jar's SHA-256, 64 lowercase hex digits: its address in {@code kiln_blobs}
 * @param jarSize     the jar's length in bytes
 * @param config      the version as its publisher describes it (the invoker's version file JSON);
 *                    the catalog stores it and hands it back, and never reads it
 * @param createdAtMs when it was deployed, epoch milliseconds
 */
public record CatalogVersion(String name, long version, String jarSha256, long jarSize, String config,
                             long createdAtMs) {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    public CatalogVersion {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(config, "config");
        if (version < 1) {
            throw new IllegalArgumentException("version must be at least 1, got " + version);
        }
        if (jarSha256 == null || !SHA256.matcher(jarSha256).matches()) {
            throw new IllegalArgumentException("jarSha256 must be 64 lowercase hex digits, got " + jarSha256);
        }
        if (jarSize < 1) {
            throw new IllegalArgumentException("jarSize must be positive, got " + jarSize);
        }
    }

    /** {@code name@version}. */
    public String id() {
        return name + "@" + version;
    }

    /** Without the config's text: it holds the function's environment, often secrets, and this may be logged. */
    @Override
    public String toString() {
        return "CatalogVersion[" + id() + ", jarSha256=" + jarSha256 + ", jarSize=" + jarSize + ", config="
                + config.length() + " characters, createdAtMs=" + createdAtMs + "]";
    }
}
