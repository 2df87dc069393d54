package io.kiln.protocol;

import java.util.EnumMap;
import java.util.Map;

/**
 * Size caps, checked against the lengths in a header before any payload byte is read or any
 * buffer allocated, and again before writing so an endpoint never sends what its peer rejects.
 * Both endpoints use {@link #DEFAULT} unless they agree otherwise.
 *
 * @param maxMetadata cap on any frame's metadata length
 * @param maxBody     cap on the body length, per frame type (0 for types that have no body)
 */
public record Limits(int maxMetadata, Map<FrameType, Integer> maxBody) {

    public static final int KIB = 1024;
    public static final int MIB = 1024 * KIB;

    /** The protocol's caps, as listed in docs/PROTOCOL.md. */
    public static final Limits DEFAULT = defaults();

    public Limits {
        if (maxMetadata < 0) {
            throw new IllegalArgumentException("negative metadata cap");
        }
        EnumMap<FrameType, Integer> copy = new EnumMap<>(FrameType.class);
        for (FrameType t : FrameType.values()) {
            Integer cap = maxBody.get(t);
            if (cap == null || cap < 0) {
                throw new IllegalArgumentException("missing or negative body cap for " + t);
            }
            copy.put(t, cap);
        }
        maxBody = Map.copyOf(copy);
    }

    private static Limits defaults() {
        Map<FrameType, Integer> body = new EnumMap<>(FrameType.class);
        body.put(FrameType.READY, 0);
        body.put(FrameType.LOAD, 256 * MIB);        // a fat jar
        body.put(FrameType.INITIALIZED, 0);
        body.put(FrameType.RESTORED, 4 * KIB);      // entropy: 32..256 bytes is plenty
        body.put(FrameType.INVOKE, 16 * MIB);       // call input
        body.put(FrameType.RESULT, 16 * MIB);       // call output
        body.put(FrameType.ERROR, 1 * MIB);         // the init log, on init failure
        body.put(FrameType.LOG, 64 * KIB);          // one chunk; the agent sends 8 KiB at most
        body.put(FrameType.SHUTDOWN, 0);
        return new Limits(256 * KIB, body);
    }

    public int maxBody(FrameType type) {
        return maxBody.get(type);
    }

    /** A copy with one body cap changed. */
    public Limits withMaxBody(FrameType type, int cap) {
        Map<FrameType, Integer> body = new EnumMap<>(maxBody);
        body.put(type, cap);
        return new Limits(maxMetadata, body);
    }

    /** A copy with the metadata cap changed. */
    public Limits withMaxMetadata(int cap) {
        return new Limits(cap, maxBody);
    }
}
