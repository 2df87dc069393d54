package io.kiln.function;

import java.lang.ref.WeakReference;
import java.security.SecureRandom;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The function's handle on the platform: registration of snapshot hooks.
 *
 * <pre>{@code
 * public final class Orders implements Handler<Order, Receipt> {
 *     private final Pool pool = Pool.connect();
 *     {
 *         Kiln.beforeSnapshot(pool::closeAll);   // no live sockets in the snapshot
 *         Kiln.onRestore(pool::reconnect);       // each clone opens its own
 *     }
 *     ...
 * }
 * }</pre>
 *
 * <p>One registry per function instance (the runtime loads one function per VM). Hooks may be
 * registered at any time, typically during static or constructor initialisation; a hook
 * registered during a call still runs at the next restore. Ordering: see {@link Lifecycle}.
 */
public final class Kiln {

    /** A hook body that may throw, so checked exceptions need no wrapping. */
    @FunctionalInterface
    public interface Hook {
        void run() throws Exception;
    }

    // Copy-on-write: registrations are rare, and the runtime iterates while user threads might
    // still register, which must neither block nor throw ConcurrentModificationException.
    private static final List<Lifecycle> REGISTERED = new CopyOnWriteArrayList<>();

    private Kiln() {
    }

    /** Registers both hooks of {@code hooks}. */
    public static void register(Lifecycle hooks) {
        REGISTERED.add(Objects.requireNonNull(hooks, "hooks"));
    }

    /** Registers code to run before the function snapshot (priming, closing sockets). */
    public static void beforeSnapshot(Hook hook) {
        Objects.requireNonNull(hook, "hook");
        register(new Lifecycle() {
            @Override
            public void beforeSnapshot() throws Exception {
                hook.run();
            }
        });
    }

    /** Registers code to run after every restore (reconnecting, reseeding). */
    public static void onRestore(Hook hook) {
        Objects.requireNonNull(hook, "hook");
        register(new Lifecycle() {
            @Override
            public void afterRestore() throws Exception {
                hook.run();
            }
        });
    }

    /**
     * Reseeds {@code random} after every restore, with fresh bytes from the JDK's default
     * {@code SecureRandom}, which the runtime has reseeded with host entropy just before the
     * hooks run. Use it for a generator created before the snapshot with an explicit algorithm
     * (e.g. {@code SecureRandom.getInstance("DRBG")}): the runtime cannot find such instances on
     * its own, and without a reseed every clone would draw the same bytes. Held weakly: a
     * generator that is no longer used is not kept alive.
     */
    public static void reseedOnRestore(SecureRandom random) {
        WeakReference<SecureRandom> ref = new WeakReference<>(Objects.requireNonNull(random));
        onRestore(() -> {
            SecureRandom r = ref.get();
            if (r != null) {
                byte[] seed = new byte[32];
                new SecureRandom().nextBytes(seed);
                r.setSeed(seed);
            }
        });
    }

    /**
     * Every registered hook, in registration order. Meant for the runtime, which runs them at
     * the right moments; calling the hooks yourself is allowed but rarely what you want.
     */
    public static List<Lifecycle> registered() {
        return List.copyOf(REGISTERED);
    }
}
