/* A minimal virtio-mmio (version 2) split-queue driver for the test guests. */
#ifndef VIRTIO_H
#define VIRTIO_H
#include "kiln.h"

#define VIRTIO_STATUS_ACK 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VQ_F_NEXT 1
#define VQ_F_WRITE 2
/* virtio-console with MULTIPORT (virtio 1.x 5.3): port 0's queues, control, port 1's. */
#define CONSOLE_F_MULTIPORT 2
#define CONSOLE_CONTROL_RX 2
#define CONSOLE_CONTROL_TX 3
#define CONSOLE_PORT1_RX 4
#define CONSOLE_PORT1_TX 5

struct vdesc { u64 addr; u32 len; u16 flags; u16 next; } __attribute__((packed));

struct vq {
    u32 size;
    volatile struct vdesc *desc;
    volatile u16 *avail;  /* [0] flags, [1] idx, [2..] ring */
    volatile u8 *used;    /* u16 flags, u16 idx, then {u32 id, u32 len} */
    u16 avail_idx, last_used;
};

static inline u16 vq_used_idx(struct vq *q) { return *(volatile u16 *)(q->used + 2); }
static inline u32 vq_used_id(struct vq *q, u16 i) { return *(volatile u32 *)(q->used + 4 + 8 * (i % q->size)); }
static inline u32 vq_used_len(struct vq *q, u16 i) { return *(volatile u32 *)(q->used + 8 + 8 * (i % q->size)); }
static inline void vq_push(struct vq *q, u16 head) {
    q->avail[2 + (q->avail_idx % q->size)] = head;
    barrier();
    q->avail_idx++;
    q->avail[1] = q->avail_idx;
    barrier();
}

/* Finds the first "virtio_mmio.device=4K@0x<base>:<irq>" whose device id is `type`. */
static u64 virtio_find(const char *cmdline, u32 type, u32 *irq) {
    const char *p = cmdline;
    while (*p) {
        if (starts_with(p, "virtio_mmio.device=")) {
            p += 19;
            while (*p && *p != '@') p++;
            if (*p == '@') p++;
            u64 base = parse_hex(&p);
            u32 n = 0;
            if (*p == ':') { p++; n = parse_dec(&p); }
            if (mmio_read32(base) == 0x74726976 && mmio_read32(base + 8) == type) { *irq = n; return base; }
        } else {
            p++;
        }
    }
    return 0;
}

/* Status sequence up to FEATURES_OK with VIRTIO_F_VERSION_1 and the device-specific feature
 * bits `features` (low word). Returns 0 on success. */
static int virtio_negotiate(u64 base, u32 features) {
    mmio_write32(base + 0x70, 0);
    mmio_write32(base + 0x70, VIRTIO_STATUS_ACK);
    mmio_write32(base + 0x70, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
    mmio_write32(base + 0x14, 1);
    if (!(mmio_read32(base + 0x10) & 1)) return -1;
    mmio_write32(base + 0x24, 0); mmio_write32(base + 0x20, features);
    mmio_write32(base + 0x24, 1); mmio_write32(base + 0x20, 1);
    mmio_write32(base + 0x70, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    return (mmio_read32(base + 0x70) & VIRTIO_STATUS_FEATURES_OK) ? 0 : -2;
}

static void virtio_queue(u64 base, u32 index, struct vq *q, u64 mem, u32 size) {
    q->size = size;
    q->desc = (volatile struct vdesc *)mem;
    q->avail = (volatile u16 *)(mem + 0x1000);
    q->used = (volatile u8 *)(mem + 0x2000);
    q->avail_idx = q->last_used = 0;
    memset((void *)mem, 0, 0x3000);
    mmio_write32(base + 0x30, index);
    mmio_write32(base + 0x38, size);
    mmio_write32(base + 0x80, (u32)mem); mmio_write32(base + 0x84, (u32)(mem >> 32));
    mmio_write32(base + 0x90, (u32)(mem + 0x1000)); mmio_write32(base + 0x94, 0);
    mmio_write32(base + 0xa0, (u32)(mem + 0x2000)); mmio_write32(base + 0xa4, 0);
    mmio_write32(base + 0x44, 1);
}

/* Routes IOAPIC pin `gsi` to `vector` on APIC 0 (edge, unmasked) and enables the LAPIC.
 * Interrupts stay disabled (IF=0): the test guests observe them in the LAPIC IRR. */
static void route_irq(u32 gsi, u32 vector) {
    mmio_write32(0xfee000f0, 0x1ff);
    mmio_write32(0xfec00000, 0x10 + 2 * gsi); mmio_write32(0xfec00010, vector);
    mmio_write32(0xfec00000, 0x11 + 2 * gsi); mmio_write32(0xfec00010, 0);
}
static int irr_pending(u32 vector) { return (mmio_read32(0xfee00200 + 0x10 * (vector / 32)) >> (vector % 32)) & 1; }
#endif
