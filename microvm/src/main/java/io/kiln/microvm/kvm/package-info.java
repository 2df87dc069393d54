/**
 * JNA bindings for the KVM ioctls: system, VM and vCPU file descriptors, their structures as
 * records or raw blobs, eventfds and the vCPU kick signal. No policy lives here.
 *
 * <p>What the software hypervisor {@code kvm_pvm} (our dev/CI hosts) supports, measured with a
 * probe guest: API 12; KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2, KVM_IRQFD, KVM_IOEVENTFD (a matching
 * guest write signals the eventfd, no exit), KVM_GET_SUPPORTED_CPUID, KVM_GET/SET of regs, sregs,
 * fpu, xsave (4096 bytes), xcrs, lapic, MSRs, mp_state, vcpu events, debug regs, irqchip, PIT2 and
 * clock all work; immediate_exit is supported. Entering directly in 64-bit long mode with our own
 * identity page tables and flat GDT works, as do PIO and MMIO exits, and exceptions (e.g. #UD)
 * delivered through the guest IDT. Not working: external interrupts (irqfd → IOAPIC → LAPIC → IDT)
 * and {@code int n} software interrupts shut the vCPU down or fail emulation; an interrupt does
 * become pending in the LAPIC IRR and wakes a HLT. HLT with IF=0 blocks KVM_RUN forever (in-kernel
 * irqchip), which is why pause/destroy kick vCPU threads with a signal. Guest kernel code runs at
 * roughly 0.3–0.5 µs per instruction. VM, irqchip, PIT, one 128 MiB memory slot and one vCPU
 * take about 0.6 ms if the memory slot is registered before the irqchip and PIT are created, but
 * about 8 ms the other way round (the first slot alone then costs ~7 ms); the slot costs ~0.15 ms
 * at 128 MiB and ~0.65 ms at 1 GiB. Closing a VM costs ~15–20 ms of kernel time.
 */
package io.kiln.microvm.kvm;
