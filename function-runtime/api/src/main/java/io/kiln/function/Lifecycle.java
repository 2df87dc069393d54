package io.kiln.function;

/**
 * Snapshot hooks, in the spirit of CRaC's {@code Resource}.
 *
 * <p>A Kiln function instance is not booted: it is restored from a memory snapshot taken right
 * after the function initialised, and many clones may be restored from one snapshot. Whatever the
 * function held at that moment is held by every clone: open sockets (dead after restore), cached
 * timestamps, random generators, unique ids. These hooks let the code prepare for that.
 *
 * <p>A handler class that implements {@code Lifecycle} is registered automatically after it is
 * constructed; any other object registers with {@link Kiln#register(Lifecycle)}.
 *
 * <p>Order, as in CRaC: {@link #beforeSnapshot()} runs in reverse registration order (the
 * handler, registered last, primes first, then the resources it used close), and
 * {@link #afterRestore()} in registration order (resources reopen before the handler that uses
 * them).
 */
public interface Lifecycle {

    /**
     * Runs once, after static initialisers and the handler's constructor, before the function
     * snapshot is taken. Use it to prime: call the handler's hot paths, load classes, fill caches,
     * warm the JIT; then close what cannot survive a snapshot (sockets, file locks). A thrown
     * exception fails the deploy, with the exception and the init log shown to the user.
     */
    default void beforeSnapshot() throws Exception {
    }

    /**
     * Runs after every restore, before the clone serves its first call. Reconnect, reseed your
     * own random generators (or register them with {@link Kiln#reseedOnRestore}), refresh
     * anything derived from the clock. By then the runtime has already reseeded the JDK's
     * default {@code SecureRandom} sources and corrected the clock. A thrown exception is
     * reported to the host, which discards the instance.
     */
    default void afterRestore() throws Exception {
    }
}
