package io.kiln.queue.catalog;

/**
 * A publish lost a race: another node committed a version of the function first, so the
 * number this one prepared is taken or no longer the next. The deploy can simply be repeated.
 */
public final class VersionConflict extends RuntimeException {

    private final String name;
    private final long version;
    private final long current;

    public VersionConflict(String name, long version, long current) {
        super("another deploy of " + name + " committed version " + current + " first; deploy again"
                + " (this one prepared version " + version + ")");
        this.name = name;
        this.version = version;
        this.current = current;
    }

    public String name() {
        return name;
    }

    /** The version this publish prepared. */
    public long version() {
        return version;
    }

    /** The function's current version in the catalog when the publish was refused. */
    public long current() {
        return current;
    }
}
