/* Reads the zero page the VMM prepared and reports it over COM1. */
#include "kiln.h"

static u32 fnv1a(const u8 *p, u64 n) {
    u32 h = 2166136261u;
    for (u64 i = 0; i < n; i++) { h ^= p[i]; h *= 16777619u; }
    return h;
}

static int sum8(const u8 *p, u64 n) { u8 s = 0; for (u64 i = 0; i < n; i++) s += p[i]; return s; }

void kmain(u8 *zp) {
    puts("KILN-BOOT\n");
    u64 cr0, cr4;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    puts("CR0 "); puthex(cr0, 8); puts(" CR4 "); puthex(cr4, 8); putc('\n');
    puts("BOOTFLAG "); puthex(*(u16 *)(zp + 0x1fe), 4);
    puts(" HDRS "); puthex(*(u32 *)(zp + 0x202), 8);
    puts(" LOADER "); puthex(zp[0x210], 2); putc('\n');

    u8 n = zp[0x1e8];
    puts("E820 "); putdec(n); putc('\n');
    for (int i = 0; i < n; i++) {
        u8 *e = zp + 0x2d0 + 20 * i;
        puts("E820 "); puthex(*(u64 *)e, 16); putc(' '); puthex(*(u64 *)(e + 8), 16); putc(' ');
        putdec(*(u32 *)(e + 16)); putc('\n');
    }

    u64 cmd = *(u32 *)(zp + 0x228) | ((u64)*(u32 *)(zp + 0xc8) << 32);
    puts("CMDLINE "); puts((const char *)cmd); putc('\n');

    u64 rd = *(u32 *)(zp + 0x218) | ((u64)*(u32 *)(zp + 0xc0) << 32);
    u64 rdsize = *(u32 *)(zp + 0x21c) | ((u64)*(u32 *)(zp + 0xc4) << 32);
    puts("INITRD "); puthex(rd, 16); putc(' '); puthex(rdsize, 16); putc(' ');
    puthex(rdsize ? fnv1a((const u8 *)rd, rdsize) : 0, 8); putc('\n');

    u32 a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    puts("CPUID1 APIC "); putdec(b >> 24); puts(" HYPERVISOR "); putdec(c >> 31); putc('\n');

    /* The MP table: floating pointer at the EBDA, then the configuration table. */
    u8 *fp = (u8 *)0x9fc00;
    if (starts_with((const char *)fp, "_MP_") && sum8(fp, 16) == 0) {
        u8 *t = (u8 *)(u64)*(u32 *)(fp + 4);
        u16 len = *(u16 *)(t + 4), count = *(u16 *)(t + 34);
        int ok = starts_with((const char *)t, "PCMP") && sum8(t, len) == 0;
        int cpus = 0, ioapic = -1; u8 *e = t + 44;
        for (int i = 0; i < count; i++) {
            if (e[0] == 0) { cpus++; e += 20; }
            else { if (e[0] == 2) ioapic = e[1]; e += 8; }
        }
        puts("MPTABLE "); puts(ok ? "OK" : "BAD"); puts(" CPUS "); putdec(cpus);
        puts(" IOAPIC "); putdec(ioapic); putc('\n');
    } else {
        puts("MPTABLE MISSING\n");
    }
    puts("DONE\n");
    reset();
}
