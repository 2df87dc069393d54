/* A virtio-console driver that echoes every byte: each filled receive buffer is sent back as is
 * on the transmit queue (zero copy), and re-posted for receive once the host has consumed it. */
#include "virtio.h"

#define QN 256
#define NB 128
#define BUFSZ 16384
#define RXQ_MEM 0x800000UL
#define TXQ_MEM 0x804000UL
#define BUF_MEM 0x1000000UL
#define IRQ_VECTOR 0x40

void kmain(u8 *zp) {
    const char *cmdline = (const char *)(u64)*(u32 *)(zp + 0x228);
    u32 gsi = 0;
    u64 base = virtio_find(cmdline, 3, &gsi);
    if (!base) { puts("NO-CONSOLE\n"); return; }
    puts("CONSOLE 0x"); puthex(base, 8); puts(" GSI "); putdec(gsi); putc('\n');
    if (virtio_negotiate(base)) { puts("NEGOTIATION-FAILED\n"); return; }
    struct vq rx, tx;
    virtio_queue(base, 0, &rx, RXQ_MEM, QN);
    virtio_queue(base, 1, &tx, TXQ_MEM, QN);
    route_irq(gsi, IRQ_VECTOR);
    mmio_write32(base + 0x70, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);

    for (u32 i = 0; i < NB; i++) {
        rx.desc[i].addr = BUF_MEM + (u64)i * BUFSZ; rx.desc[i].len = BUFSZ;
        rx.desc[i].flags = VQ_F_WRITE; rx.desc[i].next = 0;
        vq_push(&rx, i);
    }
    mmio_write32(base + 0x50, 0);
    puts("READY\n");

    int irq_reported = 0;
    u64 spins = 0, echoed = 0;
    for (;;) {
        int rx_done = 0, tx_done = 0;
        while (rx.last_used != vq_used_idx(&rx)) {
            u32 id = vq_used_id(&rx, rx.last_used), len = vq_used_len(&rx, rx.last_used);
            rx.last_used++;
            tx.desc[id].addr = BUF_MEM + (u64)id * BUFSZ; tx.desc[id].len = len;
            tx.desc[id].flags = 0; tx.desc[id].next = 0;
            vq_push(&tx, id);
            echoed += len;
            rx_done = 1;
        }
        if (rx_done) mmio_write32(base + 0x50, 1);
        while (tx.last_used != vq_used_idx(&tx)) {
            u32 id = vq_used_id(&tx, tx.last_used);
            tx.last_used++;
            vq_push(&rx, id);
            tx_done = 1;
        }
        if (tx_done) mmio_write32(base + 0x50, 0);
        if (rx_done || tx_done) {
            u32 isr = mmio_read32(base + 0x60);
            if (isr) mmio_write32(base + 0x64, isr);
            if (mmio_read32(base + 0x70) & VIRTIO_STATUS_NEEDS_RESET) { puts("NEEDS-RESET\n"); return; }
        }
        if (!irq_reported && (++spins & 0x3ff) == 0 && irr_pending(IRQ_VECTOR)) {
            irq_reported = 1;
            puts("IRQ-SEEN vector 0x40 after "); putdec(echoed); puts(" bytes\n");
        }
    }
}
