/* Counts in memory forever. A register copy of the count is checked against memory on every
 * step, so a restore that loses either registers or memory shows up as MISMATCH. */
#include "kiln.h"

#define COUNTER ((volatile u64 *)0x300000)

void kmain(u8 *zp) {
    (void)zp;
    puts("COUNTING\n");
    u64 r = 0;
    *COUNTER = 0;
    for (;;) {
        if (*COUNTER != r) { puts("MISMATCH\n"); r = *COUNTER; }
        r++;
        *COUNTER = r;
        if ((r & 0x3ffff) == 0) putc('.');
    }
}
