package io.kiln.microvm.qemu;

import io.kiln.microvm.devices.virtio.console.ConsoleDevice;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The command line that runs a guest on QEMU's {@code microvm} machine: no PCI, no ACPI, no
 * firmware option ROMs; a 16550 UART for the kernel console on QEMU's stdout; one
 * virtio-serial port (the function channel) connected to a Unix socket the host listens
 * on; a virtio-rng fed from the host's entropy; QMP on a second socket.
 *
 * <p>QEMU connects to the channel socket as a client while starting, before the guest runs,
 * so nothing the guest writes early can be lost to a not-yet-connected host.
 *
 * @param incoming true to start waiting for a migration stream (a snapshot restore) instead of booting
 */
public record QemuMicroVmCommand(
        Path qemu,
        QemuVmConfig config,
        GuestRam ram,
        Path channelSocket,
        Path qmpSocket,
        boolean incoming) {

    public QemuMicroVmCommand {
        Objects.requireNonNull(qemu, "qemu");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(ram, "ram");
        Objects.requireNonNull(channelSocket, "channelSocket");
        Objects.requireNonNull(qmpSocket, "qmpSocket");
    }

    public List<String> argv() {
        List<String> a = new ArrayList<>();
        a.add(qemu.toString());
        // acpi=off: the kernel has no ACPI and reads the MP table instead; QEMU then also
        // appends the virtio_mmio.device= parameters for our devices to the command line.
        String machine = "microvm,acpi=off,x-option-roms=off,rtc=off";
        if (!(ram instanceof GuestRam.Anonymous)) {
            machine += ",memory-backend=ram";
        }
        a.addAll(List.of("-M", machine));
        a.addAll(List.of("-accel", config.accelerator().qemuName()));
        a.addAll(List.of("-cpu", config.accelerator().cpuModel()));
        a.addAll(List.of("-m", config.memoryMib() + "M", "-smp", Integer.toString(config.vcpus())));
        if (ram instanceof GuestRam.SharedFile shared) {
            a.addAll(List.of("-object", memoryBackend(shared.file(), true)));
        } else if (ram instanceof GuestRam.PrivateFile file) {
            a.addAll(List.of("-object", memoryBackend(file.file(), false)));
        }
        a.addAll(List.of("-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none"));
        // Created paused: MicroVm.start() lets the vCPUs run (and a restore stays paused until then).
        a.add("-S");
        // A guest reboot (init's reboot -f, a panic) ends the QEMU process instead of rebooting.
        a.add("-no-reboot");
        a.addAll(List.of("-serial", "stdio"));
        a.addAll(List.of("-kernel", config.image().kernel().toString()));
        a.addAll(List.of("-initrd", config.image().initramfs().toString()));
        a.addAll(List.of("-append", config.kernelCommandLine()));
        // The function channel is a virtio-serial port, not a console port (virtconsole):
        // QEMU drops a console port's output whenever the host socket would block, but
        // throttles a serial port's. The guest sees it as /dev/vport0p1, a plain character
        // device. Port 0 is reserved for consoles, hence nr=1 and max_ports=2. The Java
        // engine's ConsoleDevice offers the same layout under the same name.
        a.addAll(List.of("-device", "virtio-serial-device,max_ports=" + ConsoleDevice.MAX_PORTS));
        a.addAll(List.of("-chardev", "socket,id=channel,path=" + option(channelSocket)));
        a.addAll(List.of("-device", "virtserialport,chardev=channel,nr=" + ConsoleDevice.CHANNEL_PORT + ",name="
                + ConsoleDevice.PORT_NAME));
        a.addAll(List.of("-object", "rng-random,id=rng,filename=/dev/urandom"));
        a.addAll(List.of("-device", "virtio-rng-device,rng=rng"));
        a.addAll(List.of("-qmp", "unix:" + option(qmpSocket) + ",server=on,wait=off"));
        if (incoming) {
            a.addAll(List.of("-incoming", "defer"));
        }
        return List.copyOf(a);
    }

    private String memoryBackend(Path file, boolean shared) {
        return "memory-backend-file,id=ram,size=" + config.memoryMib() + "M,mem-path=" + option(file) + ",share=" + (shared ? "on" : "off");
    }

    /**
     * A path inside a QEMU option string, where a comma starts the next option: QEMU reads a
     * doubled comma as one. Unescaped, a directory named "x,share=on" would turn a private
     * restore into one that writes the snapshot.
     */
    static String option(Path path) {
        return path.toString().replace(",", ",,");
    }
}
