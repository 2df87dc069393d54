/* Feeds the virtio-console device hostile queues (port 1's, with MULTIPORT) and bogus register
 * writes, one case at a time, reporting whether the device flagged DEVICE_NEEDS_RESET; resets it
 * between cases. */
#include "virtio.h"

#define RXQ_MEM 0x800000UL
#define TXQ_MEM 0x804000UL
#define QN 16

static u64 base;
static struct vq rx, tx;

static void init(u64 txmem) {
    virtio_negotiate(base, CONSOLE_F_MULTIPORT);
    virtio_queue(base, CONSOLE_PORT1_RX, &rx, RXQ_MEM, QN);
    virtio_queue(base, CONSOLE_PORT1_TX, &tx, TXQ_MEM, QN);
    if (txmem != TXQ_MEM) { /* re-point the TX descriptor table somewhere hostile */
        mmio_write32(base + 0x30, CONSOLE_PORT1_TX); mmio_write32(base + 0x80, (u32)txmem); mmio_write32(base + 0x84, (u32)(txmem >> 32));
    }
    mmio_write32(base + 0x70, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static int needs_reset(void) {
    for (int i = 0; i < 20000; i++) {
        if (mmio_read32(base + 0x70) & VIRTIO_STATUS_NEEDS_RESET) return 1;
    }
    return 0;
}

static void report(const char *name) {
    puts("CASE "); puts(name); puts(" NEEDS_RESET="); putdec(needs_reset()); putc('\n');
    mmio_write32(base + 0x70, 0);
}

static void send(u64 addr, u32 len, u16 flags, u16 next, u16 avail_step) {
    tx.desc[0].addr = addr; tx.desc[0].len = len; tx.desc[0].flags = flags; tx.desc[0].next = next;
    tx.avail[2] = 0;
    barrier();
    tx.avail_idx += avail_step;
    tx.avail[1] = tx.avail_idx;
    barrier();
    mmio_write32(base + 0x50, CONSOLE_PORT1_TX);
}

void kmain(u8 *zp) {
    const char *cmdline = (const char *)(u64)*(u32 *)(zp + 0x228);
    u32 gsi;
    base = virtio_find(cmdline, 3, &gsi);
    if (!base) { puts("NO-CONSOLE\n"); return; }

    init(TXQ_MEM); send(0x1000000, 16, VQ_F_NEXT, 0, 1); report("loop");
    init(TXQ_MEM); send(0x80000000UL, 16, 0, 0, 1); report("outside-ram");
    init(TXQ_MEM); send(0x1000000, 0xffffffffu, 0, 0, 1); report("oversize-length");
    init(TXQ_MEM); send(0xfffffffffffffff0UL, 0x20, 0, 0, 1); report("wrapping-address");
    init(TXQ_MEM); send(0x1000000, 16, 0, 0, 1000); report("avail-index-jump");
    init(TXQ_MEM); send(0x1000000, 16, VQ_F_NEXT, 200, 1); report("next-out-of-queue");
    init(0xf0000000UL); report("rings-outside-ram");

    /* Bogus register writes must change nothing: the device keeps working afterwards. */
    init(TXQ_MEM);
    mmio_write32(base + 0xec, 0xdeadbeef);
    mmio_write32(base + 0x38, 3);          /* queue size after DRIVER_OK */
    mmio_write32(base + 0x50, 77);         /* notify a queue that does not exist */
    *(volatile u8 *)(base + 0x70) = 0xff;  /* byte-wide status write */
    mmio_write32(base + 0x100 + 0x800, 1); /* far past the config space */
    mmio_write32(0xd0100000, 1);           /* an MMIO hole: no device */
    mmio_read32(0xd0100000);
    send(0x1000000, 16, 0, 0, 1);          /* a good chain still works */
    for (int i = 0; i < 100000 && tx.last_used == vq_used_idx(&tx); i++) { }
    puts("CASE bogus-registers NEEDS_RESET="); putdec(needs_reset()); puts(" USED=");
    putdec(vq_used_idx(&tx)); putc('\n');
    puts("SURVIVED\n");
}
