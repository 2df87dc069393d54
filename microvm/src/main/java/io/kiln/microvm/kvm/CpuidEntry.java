package io.kiln.microvm.kvm;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.util.ArrayList;
import java.util.List;

/** One {@code struct kvm_cpuid_entry2}. */
public record CpuidEntry(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {

    public CpuidEntry withEbx(int v) {
        return new CpuidEntry(function, index, flags, eax, v, ecx, edx);
    }

    public CpuidEntry withEcx(int v) {
        return new CpuidEntry(function, index, flags, eax, ebx, v, edx);
    }

    public CpuidEntry withEdx(int v) {
        return new CpuidEntry(function, index, flags, eax, ebx, ecx, v);
    }

    public CpuidEntry withEax(int v) {
        return new CpuidEntry(function, index, flags, v, ebx, ecx, edx);
    }

    static List<CpuidEntry> decodeList(Pointer cpuid2) {
        int n = cpuid2.getInt(0);
        List<CpuidEntry> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long o = 8 + (long) i * Ioctls.CPUID_ENTRY2_SIZE;
            out.add(new CpuidEntry(cpuid2.getInt(o), cpuid2.getInt(o + 4), cpuid2.getInt(o + 8),
                    cpuid2.getInt(o + 12), cpuid2.getInt(o + 16), cpuid2.getInt(o + 20), cpuid2.getInt(o + 24)));
        }
        return out;
    }

    static Memory encodeList(List<CpuidEntry> entries) {
        Memory buf = new Memory(8 + (long) entries.size() * Ioctls.CPUID_ENTRY2_SIZE);
        buf.clear();
        buf.setInt(0, entries.size());
        for (int i = 0; i < entries.size(); i++) {
            CpuidEntry e = entries.get(i);
            long o = 8 + (long) i * Ioctls.CPUID_ENTRY2_SIZE;
            buf.setInt(o, e.function);
            buf.setInt(o + 4, e.index);
            buf.setInt(o + 8, e.flags);
            buf.setInt(o + 12, e.eax);
            buf.setInt(o + 16, e.ebx);
            buf.setInt(o + 20, e.ecx);
            buf.setInt(o + 24, e.edx);
        }
        return buf;
    }
}
