package io.kiln.microvm.boot;

import io.kiln.microvm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Loads an x86-64 ELF kernel (vmlinux) by its PT_LOAD segments' physical addresses. The entry is
 * e_entry, which for vmlinux is the physical {@code startup_64} (the linker script's ENTRY).
 */
public final class ElfLoader {
    private static final int PT_LOAD = 1;
    private static final int EM_X86_64 = 0x3e;

    private ElfLoader() {
    }

    public static boolean isElf(byte[] image) {
        return image.length >= 4 && image[0] == 0x7f && image[1] == 'E' && image[2] == 'L' && image[3] == 'F';
    }

    public static LoadedKernel load(GuestMemory memory, byte[] image) {
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        if (image.length < 64 || !isElf(image) || image[4] != 2 || image[5] != 1) {
            throw new BootException("kernel is not a 64-bit little-endian ELF");
        }
        if (Short.toUnsignedInt(b.getShort(0x12)) != EM_X86_64) {
            throw new BootException("ELF kernel is not x86-64");
        }
        long entry = b.getLong(0x18);
        long phoff = b.getLong(0x20);
        int phentsize = Short.toUnsignedInt(b.getShort(0x36));
        int phnum = Short.toUnsignedInt(b.getShort(0x38));
        if (phentsize < 56 || phoff < 0 || phoff + (long) phnum * phentsize > image.length) {
            throw new BootException("ELF program headers lie outside the file");
        }
        long end = 0;
        boolean any = false;
        for (int i = 0; i < phnum; i++) {
            int ph = (int) (phoff + (long) i * phentsize);
            if (b.getInt(ph) != PT_LOAD) {
                continue;
            }
            long offset = b.getLong(ph + 8);
            long paddr = b.getLong(ph + 0x18);
            long filesz = b.getLong(ph + 0x20);
            long memsz = b.getLong(ph + 0x28);
            if (offset < 0 || filesz < 0 || filesz > memsz || offset + filesz > image.length) {
                throw new BootException("ELF segment " + i + " is malformed");
            }
            if (paddr < BootLayout.HIMEM_START) {
                throw new BootException(String.format("ELF segment %d loads at 0x%x, below 1 MiB where the boot structures live", i, paddr));
            }
            if (!memory.isValid(paddr, memsz)) {
                throw new BootException(String.format("ELF segment %d [0x%x, +0x%x) does not fit in guest RAM", i, paddr, memsz));
            }
            memory.write(paddr, image, (int) offset, (int) filesz);
            if (memsz > filesz) {
                memory.fill(paddr + filesz, memsz - filesz, (byte) 0);
            }
            end = Math.max(end, paddr + memsz);
            any = true;
        }
        if (!any) {
            throw new BootException("ELF kernel has no PT_LOAD segment");
        }
        return new LoadedKernel(entry, end, null);
    }
}
