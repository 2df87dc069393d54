package io.kiln.microvm.qemu;

import io.kiln.microvm.image.GuestImage;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The command line that boots a guest image on QEMU's {@code microvm} machine: no PCI, no
 * ACPI, no firmware option ROMs; a 16550 UART for the kernel console on QEMU's stdout; one
 * virtio-console port (the function channel) connected to a Unix socket the host listens
 * on; a virtio-rng fed from the host's entropy.
 *
 * <p>QEMU connects to the channel socket as a client while starting, before the guest runs,
 * so nothing the guest writes early can be lost to a not-yet-connected host.
 */
public record QemuMicroVmCommand(
        Path qemu,
        GuestImage image,
        Accelerator accelerator,
        int memoryMib,
        int vcpus,
        Path channelSocket,
        String extraKernelArgs) {

    public QemuMicroVmCommand {
        Objects.requireNonNull(qemu, "qemu");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(accelerator, "accelerator");
        Objects.requireNonNull(channelSocket, "channelSocket");
        if (memoryMib < 64) {
            throw new IllegalArgumentException("memoryMib must be at least 64 (the JRE alone needs that), got " + memoryMib);
        }
        if (vcpus < 1 || vcpus > 16) {
            throw new IllegalArgumentException("vcpus must be within 1..16, got " + vcpus);
        }
        extraKernelArgs = extraKernelArgs == null ? "" : extraKernelArgs.strip();
    }

    public String kernelCommandLine() {
        return extraKernelArgs.isEmpty() ? GuestImage.BASE_COMMAND_LINE : GuestImage.BASE_COMMAND_LINE + " " + extraKernelArgs;
    }

    public List<String> argv() {
        List<String> a = new ArrayList<>();
        a.add(qemu.toString());
        // acpi=off: the kernel has no ACPI and reads the MP table instead; QEMU then also
        // appends the virtio_mmio.device= parameters for our devices to the command line.
        a.addAll(List.of("-M", "microvm,acpi=off,x-option-roms=off,rtc=off"));
        a.addAll(List.of("-accel", accelerator.qemuName()));
        a.addAll(List.of("-cpu", accelerator.cpuModel()));
        a.addAll(List.of("-m", memoryMib + "M", "-smp", Integer.toString(vcpus)));
        a.addAll(List.of("-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none"));
        // A guest reboot (init's reboot -f, a panic) ends the QEMU process instead of rebooting.
        a.add("-no-reboot");
        a.addAll(List.of("-serial", "stdio"));
        a.addAll(List.of("-kernel", image.kernel().toString()));
        a.addAll(List.of("-initrd", image.initramfs().toString()));
        a.addAll(List.of("-append", kernelCommandLine()));
        // max_ports=1: a single-port console without the MULTIPORT feature, the same device
        // the Java KVM engine offers, so the guest sees /dev/hvc0 on both engines.
        a.addAll(List.of("-device", "virtio-serial-device,max_ports=1"));
        a.addAll(List.of("-chardev", "socket,id=channel,path=" + channelSocket));
        a.addAll(List.of("-device", "virtconsole,chardev=channel"));
        a.addAll(List.of("-object", "rng-random,id=rng,filename=/dev/urandom"));
        a.addAll(List.of("-device", "virtio-rng-device,rng=rng"));
        return List.copyOf(a);
    }
}
