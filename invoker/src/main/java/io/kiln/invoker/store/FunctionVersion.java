package io.kiln.invoker.store;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One immutable, numbered version of a function: its jar (by content address) and its config.
 *
 * @param name      the function's name (see {@link FunctionStore#checkName})
 * @param version   1 for the first deploy, one more for each after
 * @param jarSha256 the jar's SHA-256, lowercase hex: its address in the store
 * @param jarSize   the jar's length in bytes
 * @param config    how to run it
 * @param createdAt when it was deployed, to the millisecond (the unit it is stored in, so a
 *                  version read back from disk equals the one that was written)
 */
public record FunctionVersion(String name, long version, String jarSha256, long jarSize,
                              FunctionConfig config, Instant createdAt) {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    public FunctionVersion {
        FunctionStore.checkName(name);
        if (version < 1) {
            throw new IllegalArgumentException("version must be at least 1, got " + version);
        }
        // The hash becomes a file name in the store: nothing but hex may reach the path.
        if (jarSha256 == null || !SHA256.matcher(jarSha256).matches()) {
            throw new IllegalArgumentException("jarSha256 must be 64 lowercase hex digits, got "
                    + jarSha256);
        }
        Objects.requireNonNull(config, "config");
        createdAt = Objects.requireNonNull(createdAt, "createdAt").truncatedTo(ChronoUnit.MILLIS);
    }

    /** {@code name@version}, as logs and error messages show it. */
    public String id() {
        return name + "@" + version;
    }
}
