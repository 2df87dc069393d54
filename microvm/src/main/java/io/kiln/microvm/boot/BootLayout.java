package io.kiln.microvm.boot;

/**
 * Fixed guest-physical addresses of the boot structures, below 1 MiB where the kernel never loads
 * (the same places Firecracker uses, so a kernel that boots there boots here).
 */
public final class BootLayout {
    private BootLayout() {
    }

    public static final long GDT_ADDR = 0x500;
    public static final long IDT_ADDR = 0x520;
    public static final long ZERO_PAGE_ADDR = 0x7000;
    public static final long BOOT_STACK_POINTER = 0x8ff0;
    public static final long PML4_ADDR = 0x9000;
    public static final long PDPT_ADDR = 0xa000;
    /** Four page directories of 2 MiB pages: an identity map of the first 4 GiB. */
    public static final long PD_ADDR = 0xb000;
    public static final long CMDLINE_ADDR = 0x20000;
    public static final int CMDLINE_MAX = 2048;
    /** The extended BIOS data area; the MP table lives here and e820 leaves it out of RAM. */
    public static final long EBDA_START = 0x9fc00;
    public static final long HIMEM_START = 0x100000;
    public static final long KVM_TSS_ADDR = 0xfffbd000L;
    public static final long KVM_IDENTITY_MAP_ADDR = 0xfffbc000L;
    public static final long IOAPIC_ADDR = 0xfec00000L;
    public static final long LAPIC_ADDR = 0xfee00000L;
}
