package io.kiln.microvm.boot;

import io.kiln.microvm.memory.GuestMemory;
import io.kiln.microvm.memory.MemoryRegion;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Lays out everything the Linux x86-64 boot protocol needs in guest RAM: the kernel (vmlinux ELF
 * or bzImage), the command line, the initrd at the top of low RAM, the zero page with its e820
 * map, identity page tables, the GDT and an MP table. The vCPUs are set up by {@link VcpuSetup}.
 */
public final class LinuxBoot {
    private LinuxBoot() {
    }

    /** The result: where to jump, and what the zero page says (for logs and tests). */
    public record BootInfo(long entry, List<E820Entry> e820, String commandLine, InitrdLocation initrd) {
    }

    /**
     * Loads {@code kernel} and the initrd file {@code initrd} (or none) into {@code memory}. The
     * initrd is copied into guest RAM a mebibyte at a time: read whole, ours (~80 MB) would need
     * a heap that size in the VMM host process.
     */
    public static BootInfo load(GuestMemory memory, byte[] kernel, Path initrd, String commandLine, int vcpus)
            throws IOException {
        LoadedKernel k;
        if (ElfLoader.isElf(kernel)) {
            k = ElfLoader.load(memory, kernel);
        } else if (BzImageLoader.isBzImage(kernel)) {
            k = BzImageLoader.load(memory, kernel);
        } else {
            throw new BootException("kernel is neither an ELF vmlinux nor a bzImage");
        }
        ZeroPage zp = new ZeroPage(k.setupHeader());

        byte[] cmd = commandLine.getBytes(StandardCharsets.US_ASCII);
        int limit = zp.commandLineLimit(k.setupHeader() != null);
        if (cmd.length + 1 > limit) {
            throw new BootException("command line is " + cmd.length + " bytes, the kernel accepts at most " + (limit - 1));
        }
        memory.write(BootLayout.CMDLINE_ADDR, cmd);
        memory.writeByte(BootLayout.CMDLINE_ADDR + cmd.length, (byte) 0);
        zp.commandLine(BootLayout.CMDLINE_ADDR, cmd.length);

        InitrdLocation location = null;
        if (initrd != null) {
            location = placeInitrd(memory, Files.size(initrd), k.end(), zp.initrdAddrMax());
            copy(initrd, memory, location);
            zp.initrd(location);
        }
        List<E820Entry> e820 = E820Map.of(memory);
        zp.e820(e820);
        zp.writeTo(memory, BootLayout.ZERO_PAGE_ADDR);
        PageTables.writeIdentityMap(memory);
        Gdt.write(memory);
        MpTable.write(memory, vcpus);
        return new BootInfo(k.entry(), e820, commandLine, location);
    }

    private static void copy(Path file, GuestMemory memory, InitrdLocation location) throws IOException {
        byte[] buffer = new byte[1 << 20];
        long done = 0;
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while (done < location.size() && (n = in.readNBytes(buffer, 0, (int) Math.min(buffer.length, location.size() - done))) > 0) {
                memory.write(location.address() + done, buffer, 0, n);
                done += n;
            }
        }
        if (done != location.size()) {
            throw new IOException("the initrd " + file + " changed while it was loaded (" + done + " of "
                    + location.size() + " bytes)");
        }
    }

    /** The highest page-aligned spot in low RAM below initrd_addr_max that clears the kernel. */
    static InitrdLocation placeInitrd(GuestMemory memory, long size, long kernelEnd, long addrMax) {
        MemoryRegion low = memory.regions().get(0);
        long top = Math.min(low.guestEnd(), addrMax + 1);
        long address = (top - size) & ~0xfffL;
        if (size > top || address < kernelEnd) {
            throw new BootException("initrd of " + size + " bytes does not fit between the kernel and 0x" + Long.toHexString(top));
        }
        return new InitrdLocation(address, size);
    }
}
