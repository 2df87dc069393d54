package io.kiln.microvm.boot;

import io.kiln.microvm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/** The Linux {@code struct boot_params} ("zero page"), with the offsets the kernel reads. */
public final class ZeroPage {
    public static final int SIZE = 4096;
    static final int EXT_RAMDISK_IMAGE = 0x0c0;
    static final int EXT_RAMDISK_SIZE = 0x0c4;
    static final int EXT_CMD_LINE_PTR = 0x0c8;
    static final int E820_ENTRIES = 0x1e8;
    static final int BOOT_FLAG = 0x1fe;
    static final int HEADER = 0x202;
    static final int VERSION = 0x206;
    static final int TYPE_OF_LOADER = 0x210;
    static final int RAMDISK_IMAGE = 0x218;
    static final int RAMDISK_SIZE = 0x21c;
    static final int CMD_LINE_PTR = 0x228;
    static final int KERNEL_ALIGNMENT = 0x230;
    static final int CMDLINE_SIZE = 0x238;
    static final int E820_TABLE = 0x2d0;
    static final int E820_MAX = 128;

    private final ByteBuffer page = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);

    /** Starts from the kernel's own setup header (bzImage) or a minimal one (ELF). */
    public ZeroPage(byte[] setupHeader) {
        if (setupHeader != null) {
            page.position(BzImageLoader.SETUP_HEADER_OFFSET);
            page.put(setupHeader, 0, Math.min(setupHeader.length, SIZE - BzImageLoader.SETUP_HEADER_OFFSET));
        } else {
            page.putInt(HEADER, 0x53726448);
            page.putShort(VERSION, (short) 0x020f);
            page.putInt(KERNEL_ALIGNMENT, 0x0100_0000);
        }
        page.putShort(BOOT_FLAG, (short) 0xaa55);
        page.put(TYPE_OF_LOADER, (byte) 0xff); // "undefined" boot loader
    }

    public ZeroPage commandLine(long address, int lengthWithoutNul) {
        page.putInt(CMD_LINE_PTR, (int) address);
        page.putInt(EXT_CMD_LINE_PTR, (int) (address >>> 32));
        page.putInt(CMDLINE_SIZE, lengthWithoutNul);
        return this;
    }

    public ZeroPage initrd(InitrdLocation initrd) {
        page.putInt(RAMDISK_IMAGE, (int) initrd.address());
        page.putInt(EXT_RAMDISK_IMAGE, (int) (initrd.address() >>> 32));
        page.putInt(RAMDISK_SIZE, (int) initrd.size());
        page.putInt(EXT_RAMDISK_SIZE, (int) (initrd.size() >>> 32));
        return this;
    }

    public ZeroPage e820(List<E820Entry> entries) {
        if (entries.size() > E820_MAX) {
            throw new BootException("too many e820 entries: " + entries.size());
        }
        page.put(E820_ENTRIES, (byte) entries.size());
        for (int i = 0; i < entries.size(); i++) {
            int o = E820_TABLE + 20 * i;
            page.putLong(o, entries.get(i).address());
            page.putLong(o + 8, entries.get(i).size());
            page.putInt(o + 16, entries.get(i).type());
        }
        return this;
    }

    /** The initrd_addr_max field of the setup header (2.03+), or the protocol's default. */
    public long initrdAddrMax() {
        long v = Integer.toUnsignedLong(page.getInt(0x22c));
        return v == 0 ? 0x37ffffffL : v;
    }

    /** The cmdline_size field of a bzImage header (2.06+), else the x86 COMMAND_LINE_SIZE. */
    public int commandLineLimit(boolean fromKernelHeader) {
        int v = page.getInt(CMDLINE_SIZE);
        return fromKernelHeader && v > 0 ? v : BootLayout.CMDLINE_MAX;
    }

    public void writeTo(GuestMemory memory, long address) {
        memory.write(address, page.array());
    }
}
