/* Reboots the way Linux does with reboot=t: an empty IDT, then an exception, which can be
 * delivered nowhere (#UD -> #DF -> triple fault): the CPU resets. */
#include "kiln.h"

void kmain(u8 *zp) {
    (void) zp;
    puts("TRIPLE\n");
    struct __attribute__((packed)) { u16 limit; u64 base; } empty = {0, 0};
    __asm__ volatile("lidt %0" :: "m"(empty));
    __asm__ volatile("ud2");
    for (;;) {
    }
}
