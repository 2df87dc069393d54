package io.kiln.microvm.kvm;

import java.nio.ByteBuffer;

/** {@code struct kvm_segment} (24 bytes). */
public record Segment(long base, int limit, int selector, int type, boolean present, int dpl, boolean db,
                      boolean s, boolean l, boolean g, boolean avl, boolean unusable) {
    static final int SIZE = 24;

    static Segment decode(ByteBuffer b) {
        long base = b.getLong();
        int limit = b.getInt();
        int selector = Short.toUnsignedInt(b.getShort());
        int type = b.get() & 0xff;
        boolean present = b.get() != 0;
        int dpl = b.get() & 0xff;
        boolean db = b.get() != 0;
        boolean s = b.get() != 0;
        boolean l = b.get() != 0;
        boolean g = b.get() != 0;
        boolean avl = b.get() != 0;
        boolean unusable = b.get() != 0;
        b.get(); // padding
        return new Segment(base, limit, selector, type, present, dpl, db, s, l, g, avl, unusable);
    }

    void encode(ByteBuffer b) {
        b.putLong(base).putInt(limit).putShort((short) selector).put((byte) type).put(bit(present))
                .put((byte) dpl).put(bit(db)).put(bit(s)).put(bit(l)).put(bit(g)).put(bit(avl))
                .put(bit(unusable)).put((byte) 0);
    }

    private static byte bit(boolean v) {
        return (byte) (v ? 1 : 0);
    }

    /** Decodes an 8-byte GDT descriptor the way the CPU loads it into a segment register. */
    public static Segment fromGdtEntry(int selector, long entry) {
        long base = ((entry >>> 16) & 0xffffffL) | ((entry >>> 32) & 0xff000000L);
        int limitRaw = (int) ((entry & 0xffff) | ((entry >>> 32) & 0xf0000));
        boolean g = ((entry >>> 55) & 1) != 0;
        int limit = g ? (limitRaw << 12) | 0xfff : limitRaw;
        int type = (int) ((entry >>> 40) & 0xf);
        boolean s = ((entry >>> 44) & 1) != 0;
        int dpl = (int) ((entry >>> 45) & 3);
        boolean present = ((entry >>> 47) & 1) != 0;
        boolean avl = ((entry >>> 52) & 1) != 0;
        boolean l = ((entry >>> 53) & 1) != 0;
        boolean db = ((entry >>> 54) & 1) != 0;
        return new Segment(base, limit, selector, type, present, dpl, db, s, l, g, avl, !present);
    }
}
