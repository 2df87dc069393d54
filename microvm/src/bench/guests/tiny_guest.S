/*
 * The benchmark guest: one ELF, two entry points, the same program behind each.
 *
 *  - _start (e_entry): the Java KVM engine's entry, like Linux's startup_64 (long mode, paging on,
 *    interrupts off).
 *  - pvh_start (the XEN_ELFNOTE_PHYS32_ENTRY note): QEMU's microvm machine with -kernel, through
 *    its qboot firmware (32-bit protected mode, paging off).
 *
 * Either way the first act is one 'K' on the COM1 UART (the "first guest instruction" the host
 * times), then an endless loop that bumps a counter in memory and writes one '.' per iteration:
 * a restored guest's next '.' tells the host it is running again, at most one loop turn late.
 * No LSR polling: both UARTs accept a write at any time (QEMU drops what its chardev cannot take).
 */
#define COM1 0x3f8

    .section .text.start, "ax"
    .code64
    .globl _start
_start:
    cli
    mov $COM1, %dx
    mov $'K', %al
    out %al, %dx
1:  incq counter(%rip)
    mov $'.', %al
    out %al, %dx
    jmp 1b

    .code32
    .globl pvh_start
pvh_start:
    cli
    mov $COM1, %dx
    mov $'K', %al
    out %al, %dx
2:  incl counter
    mov $'.', %al
    out %al, %dx
    jmp 2b

/* Linux's ELFNOTE(Xen, XEN_ELFNOTE_PHYS32_ENTRY, ...): the 32-bit physical PVH entry. */
    .section .note.Xen, "a", @note
    .balign 4
    .long 2f - 1f
    .long 4f - 3f
    .long 18
1:  .asciz "Xen"
2:  .balign 4
3:  .long pvh_start
4:  .balign 4

    .bss
    .balign 8
    .globl counter
counter:
    .quad 0
