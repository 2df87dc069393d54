/* Shared helpers for the freestanding test guests. */
#ifndef KILN_H
#define KILN_H
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 mmio_read32(u64 a) { return *(volatile u32 *)a; }
static inline void mmio_write32(u64 a, u32 v) { *(volatile u32 *)a = v; }
static inline u8 mmio_read8(u64 a) { return *(volatile u8 *)a; }
static inline void barrier(void) { __asm__ volatile("mfence" ::: "memory"); }

#define COM1 0x3f8
static inline void putc(char c) {
    while (!(inb(COM1 + 5) & 0x20)) { }
    outb(COM1, (u8)c);
}
static inline void puts(const char *s) { while (*s) putc(*s++); }
static inline void puthex(u64 v, int digits) {
    for (int i = digits - 1; i >= 0; i--) putc("0123456789abcdef"[(v >> (4 * i)) & 0xf]);
}
static inline void putdec(u64 v) {
    char b[21]; int n = 0;
    do { b[n++] = '0' + v % 10; v /= 10; } while (v);
    while (n) putc(b[--n]);
}
static inline void reset(void) { for (;;) outb(0x64, 0xfe); }

static inline void *memset(void *d, int c, u64 n) { u8 *p = d; while (n--) *p++ = (u8)c; return d; }
static inline int starts_with(const char *s, const char *p) { while (*p) if (*s++ != *p++) return 0; return 1; }
static inline u64 parse_hex(const char **s) {
    u64 v = 0; const char *p = *s;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) p += 2;
    for (;;) {
        char c = *p; int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else break;
        v = v * 16 + d; p++;
    }
    *s = p; return v;
}
static inline u64 parse_dec(const char **s) { u64 v = 0; while (**s >= '0' && **s <= '9') v = v * 10 + (*(*s)++ - '0'); return v; }
#endif
