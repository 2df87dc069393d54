package io.kiln.gateway.cluster;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Rendezvous (highest random weight) hashing: each function ranks the live nodes by a hash of
 * (node, function); the first is its home. When a node joins or leaves, only the functions whose
 * first choice it is (or becomes) move; the others keep their home and their warm instances.
 * Every node computes the same ranking from the same live set, with no coordination.
 */
public final class Rendezvous {

    private Rendezvous() {
    }

    /** {@code nodes} ordered for {@code function}: its home first. */
    public static List<String> rank(String function, List<String> nodes) {
        List<String> ranked = new ArrayList<>(nodes);
        ranked.sort(Comparator.comparingLong((String n) -> weight(n, function)).reversed()
                .thenComparing(Comparator.naturalOrder()));
        return ranked;
    }

    /** FNV-1a over "node\0function", then a 64-bit finaliser so that close names spread apart. */
    static long weight(String node, String function) {
        long h = 0xcbf29ce484222325L;
        for (byte b : (node + "\0" + function).getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
