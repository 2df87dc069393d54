package io.kiln.microvm.boot;

import io.kiln.microvm.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Loads a bzImage per Documentation/x86/boot.rst: the protected-mode part goes to 1 MiB, the
 * 64-bit entry is 0x200 past it, and the setup header is handed back for the zero page.
 */
public final class BzImageLoader {
    static final int SETUP_HEADER_OFFSET = 0x1f1;
    private static final int HDRS_MAGIC = 0x53726448; // "HdrS"
    private static final int MIN_VERSION = 0x020c; // 64-bit entry (xloadflags) from 2.12
    private static final int XLF_KERNEL_64 = 1;

    private BzImageLoader() {
    }

    public static boolean isBzImage(byte[] image) {
        return image.length > 0x206 && ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).getInt(0x202) == HDRS_MAGIC;
    }

    public static LoadedKernel load(GuestMemory memory, byte[] image) {
        if (!isBzImage(image)) {
            throw new BootException("kernel is not a bzImage (no HdrS magic)");
        }
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        int version = Short.toUnsignedInt(b.getShort(0x206));
        if (version < MIN_VERSION) {
            throw new BootException(String.format("boot protocol 0x%x is older than 2.12, no 64-bit entry", version));
        }
        if ((Short.toUnsignedInt(b.getShort(0x236)) & XLF_KERNEL_64) == 0) {
            throw new BootException("bzImage has no 64-bit entry point (XLF_KERNEL_64 clear)");
        }
        int setupSects = image[SETUP_HEADER_OFFSET] & 0xff;
        if (setupSects == 0) {
            setupSects = 4;
        }
        int kernelOffset = (setupSects + 1) * 512;
        if (kernelOffset >= image.length) {
            throw new BootException("bzImage setup sectors run past the end of the file");
        }
        int kernelSize = image.length - kernelOffset;
        long initSize = Integer.toUnsignedLong(b.getInt(0x260));
        long load = BootLayout.HIMEM_START;
        if (!memory.isValid(load, Math.max(kernelSize, initSize))) {
            throw new BootException("guest RAM is too small for the kernel (init_size " + initSize + ")");
        }
        memory.write(load, image, kernelOffset, kernelSize);
        int headerEnd = 0x202 + (image[0x201] & 0xff);
        byte[] header = Arrays.copyOfRange(image, SETUP_HEADER_OFFSET, Math.min(headerEnd, image.length));
        return new LoadedKernel(load + 0x200, load + Math.max(kernelSize, initSize), header);
    }
}
