/* Entered like Linux's startup_64: 64-bit mode, paging on, rsi = zero page, interrupts off. */
    .section .text.start, "ax"
    .globl _start
_start:
    cli
    lea stack_top(%rip), %rsp
    mov %rsi, %rdi
    call kmain
1:  /* kmain returned: ask for a reset through the i8042, then spin if that did not stop us. */
    mov $0xfe, %al
    out %al, $0x64
    jmp 1b

    .bss
    .align 16
stack:
    .skip 65536
stack_top:
