package io.kiln.microvm.qemu;

import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.probe.KvmProbe;
import io.kiln.microvm.probe.KvmProbeResult;
import io.kiln.protocol.ReadyFrame;

import java.time.Duration;

/**
 * Boots the guest image once under QEMU and prints the agent's READY: the quickest proof
 * that kernel, init, JRE and agent fit together. {@code ./run.sh} runs it.
 *
 * <pre>java -cp ... io.kiln.microvm.qemu.BootCheck [tcg|kvm] [--quiet]</pre>
 *
 * <p>Without {@code tcg} or {@code kvm} it asks the KVM probe: QEMU uses KVM where
 * {@code /dev/kvm} is hardware-backed, TCG otherwise, and the choice is printed with its reason.
 */
public final class BootCheck {

    private BootCheck() {
    }

    public static void main(String[] args) {
        Accelerator accelerator = null;
        boolean quiet = false;
        for (String arg : args) {
            switch (arg) {
                case "tcg" -> accelerator = Accelerator.TCG;
                case "kvm" -> accelerator = Accelerator.KVM;
                case "--quiet" -> quiet = true;
                default -> {
                    System.err.println("usage: BootCheck [tcg|kvm] [--quiet]");
                    System.exit(2);
                }
            }
        }
        boolean echo = !quiet;
        if (accelerator == null) {
            KvmProbeResult probe = KvmProbe.probeHost();
            accelerator = probe.hardware() ? Accelerator.KVM : Accelerator.TCG;
            System.out.println("KVM probe: " + probe + " -> QEMU with " + accelerator);
        }
        try {
            GuestImage image = GuestImage.locate();
            System.out.println("booting guest image " + image.id() + " on QEMU microvm (" + accelerator + ")");
            long start = System.nanoTime();
            try (QemuGuest guest = QemuGuest.boot(new QemuVmConfig(image, accelerator, 512, 1, ""), false,
                    line -> {
                        if (echo) {
                            System.out.println("  console | " + line);
                        }
                    })) {
                guest.start();
                ReadyFrame ready = guest.awaitReady(Duration.ofMinutes(3));
                long millis = (System.nanoTime() - start) / 1_000_000;
                System.out.println("READY " + ready.metadata() + " after " + millis + " ms");
            }
        } catch (RuntimeException e) {
            System.err.println("boot check failed: " + e.getMessage());
            System.exit(1);
        }
    }
}
