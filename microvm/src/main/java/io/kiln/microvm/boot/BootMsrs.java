package io.kiln.microvm.boot;

import io.kiln.microvm.kvm.MsrEntry;
import java.util.List;

/**
 * The MSR values a vCPU starts with: syscall/sysenter MSRs cleared (Linux programs them), the TSC
 * at zero, fast strings enabled and write-back as the default memory type, as a BIOS leaves them.
 */
public final class BootMsrs {
    public static final int IA32_TSC = 0x10;
    public static final int IA32_APIC_BASE = 0x1b;
    public static final int IA32_SYSENTER_CS = 0x174;
    public static final int IA32_SYSENTER_ESP = 0x175;
    public static final int IA32_SYSENTER_EIP = 0x176;
    public static final int IA32_MISC_ENABLE = 0x1a0;
    public static final int MTRR_DEF_TYPE = 0x2ff;
    public static final int STAR = 0xc0000081;
    public static final int LSTAR = 0xc0000082;
    public static final int CSTAR = 0xc0000083;
    public static final int SYSCALL_MASK = 0xc0000084;
    public static final int KERNEL_GS_BASE = 0xc0000102;
    private static final long MISC_ENABLE_FAST_STRING = 1;
    private static final long MTRR_ENABLE = 1 << 11;
    private static final long MTRR_WRITE_BACK = 6;

    private BootMsrs() {
    }

    public static List<MsrEntry> initial() {
        return List.of(
                new MsrEntry(IA32_SYSENTER_CS, 0),
                new MsrEntry(IA32_SYSENTER_ESP, 0),
                new MsrEntry(IA32_SYSENTER_EIP, 0),
                new MsrEntry(STAR, 0),
                new MsrEntry(CSTAR, 0),
                new MsrEntry(KERNEL_GS_BASE, 0),
                new MsrEntry(SYSCALL_MASK, 0),
                new MsrEntry(LSTAR, 0),
                new MsrEntry(IA32_TSC, 0),
                new MsrEntry(IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING),
                new MsrEntry(MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_WRITE_BACK));
    }
}
