package io.kiln.microvm.kvm;

import java.nio.ByteBuffer;

/** {@code struct kvm_dtable}: a GDT or IDT base and limit (16 bytes). */
public record DescriptorTable(long base, int limit) {
    static DescriptorTable decode(ByteBuffer b) {
        long base = b.getLong();
        int limit = Short.toUnsignedInt(b.getShort());
        b.position(b.position() + 6);
        return new DescriptorTable(base, limit);
    }

    void encode(ByteBuffer b) {
        b.putLong(base).putShort((short) limit).putShort((short) 0).putInt(0);
    }
}
