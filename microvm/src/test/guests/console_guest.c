/* A MULTIPORT virtio-console driver that echoes every byte on port 1, the function channel.
 * First the control protocol, as Linux runs it: control buffers posted, DEVICE_READY; on
 * PORT_ADD for port 1, PORT_READY and PORT_OPEN (the port is open); then it waits for the
 * port's name. Then each filled receive buffer is sent back as is on the transmit queue (zero
 * copy), and re-posted for receive once the host has consumed it. */
#include "virtio.h"

#define QN 256
#define NB 128
#define BUFSZ 16384
#define CQN 16
#define RXQ_MEM 0x800000UL
#define TXQ_MEM 0x804000UL
#define CRXQ_MEM 0x808000UL
#define CTXQ_MEM 0x80c000UL
#define CTL_IN 0x900000UL   /* control receive buffers, 64 bytes each */
#define CTL_OUT 0x901000UL  /* control messages sent, 16 bytes each */
#define BUF_MEM 0x1000000UL
#define IRQ_VECTOR 0x40

static struct vq crx, ctx;

static void control_send(u64 base, u32 port, u16 event, u16 value) {
    u16 i = ctx.avail_idx % CQN;
    u64 m = CTL_OUT + 16UL * i;
    *(volatile u32 *)m = port; *(volatile u16 *)(m + 4) = event; *(volatile u16 *)(m + 6) = value;
    ctx.desc[i].addr = m; ctx.desc[i].len = 8; ctx.desc[i].flags = 0; ctx.desc[i].next = 0;
    vq_push(&ctx, i);
    mmio_write32(base + 0x50, CONSOLE_CONTROL_TX);
}

/* Runs the control protocol until port 1 is named; 0 on success. */
static int open_port(u64 base) {
    for (u32 i = 0; i < CQN; i++) {
        crx.desc[i].addr = CTL_IN + 64UL * i; crx.desc[i].len = 64;
        crx.desc[i].flags = VQ_F_WRITE; crx.desc[i].next = 0;
        vq_push(&crx, i);
    }
    mmio_write32(base + 0x50, CONSOLE_CONTROL_RX);
    control_send(base, 0xffffffffu, 0 /* DEVICE_READY */, 1);
    for (u64 spins = 0; spins < 100000000UL; spins++) {
        while (crx.last_used != vq_used_idx(&crx)) {
            u32 id = vq_used_id(&crx, crx.last_used), len = vq_used_len(&crx, crx.last_used);
            crx.last_used++;
            volatile u8 *m = (volatile u8 *)(CTL_IN + 64UL * id);
            u32 port = *(volatile u32 *)m;
            u16 event = *(volatile u16 *)(m + 4);
            if (event == 1 /* PORT_ADD */ && port == 1) {
                puts("PORT-ADD 1\n");
                control_send(base, 1, 3 /* PORT_READY */, 1);
                control_send(base, 1, 6 /* PORT_OPEN */, 1);
            } else if (event == 6 /* PORT_OPEN */) {
                puts("HOST-OPEN "); putdec(*(volatile u16 *)(m + 6)); putc('\n');
            } else if (event == 7 /* PORT_NAME */) {
                puts("PORT-NAME ");
                for (u32 k = 8; k < len; k++) putc(m[k]);
                putc('\n');
                return 0;
            } else {
                puts("CONTROL-EVENT "); putdec(event); putc('\n');
            }
            vq_push(&crx, id);
            mmio_write32(base + 0x50, CONSOLE_CONTROL_RX);
        }
        if ((spins & 0x3ff) == 0 && (mmio_read32(base + 0x70) & VIRTIO_STATUS_NEEDS_RESET)) {
            puts("NEEDS-RESET\n");
            return -1;
        }
    }
    puts("NO-PORT\n");
    return -1;
}

void kmain(u8 *zp) {
    const char *cmdline = (const char *)(u64)*(u32 *)(zp + 0x228);
    u32 gsi = 0;
    u64 base = virtio_find(cmdline, 3, &gsi);
    if (!base) { puts("NO-CONSOLE\n"); return; }
    puts("CONSOLE 0x"); puthex(base, 8); puts(" GSI "); putdec(gsi); putc('\n');
    if (virtio_negotiate(base, CONSOLE_F_MULTIPORT)) { puts("NEGOTIATION-FAILED\n"); return; }
    struct vq rx, tx;
    virtio_queue(base, CONSOLE_CONTROL_RX, &crx, CRXQ_MEM, CQN);
    virtio_queue(base, CONSOLE_CONTROL_TX, &ctx, CTXQ_MEM, CQN);
    virtio_queue(base, CONSOLE_PORT1_RX, &rx, RXQ_MEM, QN);
    virtio_queue(base, CONSOLE_PORT1_TX, &tx, TXQ_MEM, QN);
    route_irq(gsi, IRQ_VECTOR);
    mmio_write32(base + 0x70, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
    if (open_port(base)) return;

    for (u32 i = 0; i < NB; i++) {
        rx.desc[i].addr = BUF_MEM + (u64)i * BUFSZ; rx.desc[i].len = BUFSZ;
        rx.desc[i].flags = VQ_F_WRITE; rx.desc[i].next = 0;
        vq_push(&rx, i);
    }
    mmio_write32(base + 0x50, CONSOLE_PORT1_RX);
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
        if (rx_done) mmio_write32(base + 0x50, CONSOLE_PORT1_TX);
        while (tx.last_used != vq_used_idx(&tx)) {
            u32 id = vq_used_id(&tx, tx.last_used);
            tx.last_used++;
            vq_push(&rx, id);
            tx_done = 1;
        }
        if (tx_done) mmio_write32(base + 0x50, CONSOLE_PORT1_RX);
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
