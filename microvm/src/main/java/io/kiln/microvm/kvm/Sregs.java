package io.kiln.microvm.kvm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** {@code struct kvm_sregs}: segments, descriptor tables, control registers, EFER (312 bytes). */
public record Sregs(Segment cs, Segment ds, Segment es, Segment fs, Segment gs, Segment ss, Segment tr,
                    Segment ldt, DescriptorTable gdt, DescriptorTable idt, long cr0, long cr2, long cr3,
                    long cr4, long cr8, long efer, long apicBase, long[] interruptBitmap) {

    public static Sregs decode(byte[] raw) {
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        Segment cs = Segment.decode(b);
        Segment ds = Segment.decode(b);
        Segment es = Segment.decode(b);
        Segment fs = Segment.decode(b);
        Segment gs = Segment.decode(b);
        Segment ss = Segment.decode(b);
        Segment tr = Segment.decode(b);
        Segment ldt = Segment.decode(b);
        DescriptorTable gdt = DescriptorTable.decode(b);
        DescriptorTable idt = DescriptorTable.decode(b);
        long cr0 = b.getLong();
        long cr2 = b.getLong();
        long cr3 = b.getLong();
        long cr4 = b.getLong();
        long cr8 = b.getLong();
        long efer = b.getLong();
        long apicBase = b.getLong();
        long[] bitmap = new long[4];
        for (int i = 0; i < 4; i++) {
            bitmap[i] = b.getLong();
        }
        return new Sregs(cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer, apicBase, bitmap);
    }

    public byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(Ioctls.SREGS_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (Segment s : new Segment[] {cs, ds, es, fs, gs, ss, tr, ldt}) {
            s.encode(b);
        }
        gdt.encode(b);
        idt.encode(b);
        b.putLong(cr0).putLong(cr2).putLong(cr3).putLong(cr4).putLong(cr8).putLong(efer).putLong(apicBase);
        for (int i = 0; i < 4; i++) {
            b.putLong(interruptBitmap[i]);
        }
        return b.array();
    }

    /** A copy with the segments, tables and control registers a flat 64-bit entry needs. */
    public Sregs withLongMode(Segment code, Segment data, Segment tss, DescriptorTable gdt, DescriptorTable idt,
                              long cr0, long cr3, long cr4, long efer) {
        return new Sregs(code, data, data, data, data, data, tss, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer,
                apicBase, interruptBitmap);
    }
}
