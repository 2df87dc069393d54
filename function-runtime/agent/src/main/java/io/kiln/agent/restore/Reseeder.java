package io.kiln.agent.restore;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * Mixes host entropy into the JDK's shared random state after a restore, so clones of one
 * snapshot stop drawing the same bytes.
 *
 * <p>What the JDK shares, and so what one reseed fixes for every instance, past and future:
 * <ul>
 *   <li>{@code NativePRNG}, {@code NativePRNGBlocking}, {@code NativePRNGNonBlocking} (the
 *       default {@code new SecureRandom()} on Linux, {@code getInstanceStrong()}, and
 *       {@code UUID.randomUUID()}): each variant keeps one static state whose SHA1PRNG "mix"
 *       generator is XORed into every output. Reseeding that mix generator covers every
 *       NativePRNG instance, including ones user code created before the snapshot.</li>
 *   <li>The SHA1PRNG seeder, which seeds every new unseeded SHA1PRNG instance.</li>
 *   <li>The DRBG seeder (a HashDrbg), which seeds every new DRBG instance. Without a reseed, a
 *       DRBG created after the restore would start from the same state in every clone.</li>
 * </ul>
 * These live in {@code sun.security.provider}, reached by reflection, which needs
 * {@code --add-opens java.base/sun.security.provider=ALL-UNNAMED} (the agent jar's manifest
 * carries it for {@code java -jar}). Without it, in guest mode the NativePRNG variants are still
 * reseeded through the public {@code setSeed}, which also writes the seed to the guest's
 * /dev/random; in host mode nothing is written to the host's kernel, so they are skipped.
 *
 * <p>All lookups, and the initialisation of those shared generators, happen once in
 * {@link #prepare} at agent start, before any snapshot: the restore path then only calls
 * {@code engineSetSeed}, with no class loading or reflection lookups on the cold-start path.
 *
 * <p>What no reseed here can reach: DRBG or SHA1PRNG instances user code created before the
 * snapshot hold private state (register them with {@code Kiln.reseedOnRestore}); and
 * {@code java.util.Random}, {@code ThreadLocalRandom}, {@code SplittableRandom},
 * {@code Math.random()} are not cryptographic and are not reseeded.
 */
public final class Reseeder {

    static final String PROVIDER = "sun.security.provider.";

    /** What was reseeded and what was not (with why). */
    public record Report(List<String> reseeded, List<String> skipped) {
    }

    /** One shared generator and how to mix a seed into it. */
    private record Target(String name, Object spi, Method setSeed) {
        void seed(byte[] entropy) throws ReflectiveOperationException {
            setSeed.invoke(spi, (Object) entropy);
        }
    }

    private final List<Target> targets;
    private final List<String> skipped;
    private final List<String> publicFallback;

    private Reseeder(List<Target> targets, List<String> skipped, List<String> publicFallback) {
        this.targets = targets;
        this.skipped = skipped;
        this.publicFallback = publicFallback;
    }

    /**
     * Finds the shared generators (initialising them if this JVM has not yet).
     *
     * @param guest allow the public {@code setSeed} fallback, which writes the guest's
     *              /dev/random; never on a host
     */
    public static Reseeder prepare(boolean guest) {
        // Let the SUN provider initialise first, the way the JDK does. Touching NativePRNG
        // before it makes NativePRNG's class initialiser read the seed source from
        // SunEntries, whose own initialiser then asks the half-initialised NativePRNG whether
        // it is available, gets "no", and makes DRBG the JVM-wide default for
        // new SecureRandom(): instances whose private state no reseed can reach.
        new SecureRandom();
        List<Target> targets = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        List<String> fallback = new ArrayList<>();
        String[][] natives = {
                {"NativePRNG", "NativePRNG"},
                {"NativePRNGBlocking", "NativePRNG$Blocking"},
                {"NativePRNGNonBlocking", "NativePRNG$NonBlocking"}};
        for (String[] n : natives) {
            try {
                Object io = staticField(PROVIDER + n[1], "INSTANCE");
                if (io == null) {
                    skipped.add(n[0] + ": not available on this system");
                    continue;
                }
                Method mix = io.getClass().getDeclaredMethod("getMixRandom");
                mix.setAccessible(true);
                targets.add(target(n[0], mix.invoke(io)));
            } catch (ReflectiveOperationException | RuntimeException e) {
                if (guest) {
                    fallback.add(n[0]);
                } else {
                    skipped.add(n[0] + ": " + why(e));
                }
            }
        }
        try {
            targets.add(target("SHA1PRNG.seeder",
                    staticField(PROVIDER + "SecureRandom$SeederHolder", "seeder")));
        } catch (ReflectiveOperationException | RuntimeException e) {
            skipped.add("SHA1PRNG.seeder: " + why(e));
        }
        try {
            // The DRBG seeder is a lambda over the HashDrbg that does the work; find that.
            Object lambda = staticField(PROVIDER + "AbstractDrbg$SeederHolder", "seeder");
            Class<?> drbg = Class.forName(PROVIDER + "AbstractDrbg");
            Object first = null;
            for (Field f : lambda.getClass().getDeclaredFields()) {
                if (drbg.isAssignableFrom(f.getType())) {
                    f.setAccessible(true);
                    first = f.get(lambda);
                }
            }
            if (first == null) {
                throw new NoSuchFieldException("no DRBG captured by the seeder");
            }
            targets.add(target("DRBG.seeder", first));
        } catch (ReflectiveOperationException | RuntimeException e) {
            skipped.add("DRBG.seeder: " + why(e));
        }
        return new Reseeder(List.copyOf(targets), List.copyOf(skipped), List.copyOf(fallback));
    }

    /** Mixes {@code entropy} into every shared generator found by {@link #prepare}. */
    public Report reseed(byte[] entropy) {
        List<String> done = new ArrayList<>();
        List<String> notDone = new ArrayList<>(skipped);
        for (String alg : publicFallback) {
            try {
                SecureRandom.getInstance(alg).setSeed(entropy);
                done.add(alg);
            } catch (Exception e) {
                notDone.add(alg + ": " + e);
            }
        }
        for (Target t : targets) {
            try {
                t.seed(entropy);
                done.add(t.name());
            } catch (ReflectiveOperationException | RuntimeException e) {
                notDone.add(t.name() + ": " + e);
            }
        }
        return new Report(List.copyOf(done), List.copyOf(notDone));
    }

    private static Target target(String name, Object spi) throws NoSuchMethodException {
        // engineSetSeed mixes the seed into the existing state; it never replaces it.
        Method m = findMethod(spi.getClass(), "engineSetSeed", byte[].class);
        m.setAccessible(true);
        return new Target(name, spi, m);
    }

    private static Object staticField(String className, String name)
            throws ReflectiveOperationException {
        Field f = Class.forName(className).getDeclaredField(name);
        f.setAccessible(true);
        return f.get(null);
    }

    private static Method findMethod(Class<?> c, String name, Class<?>... params)
            throws NoSuchMethodException {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            try {
                return k.getDeclaredMethod(name, params);
            } catch (NoSuchMethodException e) {
                // look further up
            }
        }
        throw new NoSuchMethodException(c.getName() + "." + name);
    }

    private static String why(Exception e) {
        return e instanceof java.lang.reflect.InaccessibleObjectException
                ? "needs --add-opens java.base/sun.security.provider=ALL-UNNAMED" : e.toString();
    }
}
