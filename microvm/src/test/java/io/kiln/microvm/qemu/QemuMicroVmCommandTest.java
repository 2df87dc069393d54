package io.kiln.microvm.qemu;

import io.kiln.microvm.image.GuestImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class QemuMicroVmCommandTest {

    @TempDir
    Path dir;

    private GuestImage image() throws IOException {
        Path imageDir = Files.createDirectory(dir.resolve("abc123"));
        Files.write(imageDir.resolve("vmlinux"), new byte[] {1});
        Files.write(imageDir.resolve("initramfs.cpio"), new byte[] {2});
        return GuestImage.at(imageDir);
    }

    @Test
    void buildsTheMicrovmCommandLine() throws IOException {
        GuestImage image = image();
        Path socket = dir.resolve("ch.sock");
        var command = new QemuMicroVmCommand(Path.of("/usr/bin/qemu-system-x86_64"), image, Accelerator.TCG, 512, 2,
                socket, " quiet ");
        Path d = image.directory();
        assertEquals(List.of(
                "/usr/bin/qemu-system-x86_64",
                "-M", "microvm,acpi=off,x-option-roms=off,rtc=off",
                "-accel", "tcg", "-cpu", "max",
                "-m", "512M", "-smp", "2",
                "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
                "-no-reboot", "-serial", "stdio",
                "-kernel", d.resolve("vmlinux").toString(),
                "-initrd", d.resolve("initramfs.cpio").toString(),
                "-append", "console=ttyS0 reboot=k panic=-1 mitigations=off quiet",
                "-device", "virtio-serial-device,max_ports=1",
                "-chardev", "socket,id=channel,path=" + socket,
                "-device", "virtconsole,chardev=channel",
                "-object", "rng-random,id=rng,filename=/dev/urandom",
                "-device", "virtio-rng-device,rng=rng"), command.argv());
        assertEquals("abc123", image.id());
    }

    @Test
    void kvmPassesTheHostCpuThrough() throws IOException {
        var command = new QemuMicroVmCommand(Path.of("q"), image(), Accelerator.KVM, 128, 1, dir.resolve("s"), null);
        List<String> argv = command.argv();
        assertEquals("kvm", argv.get(argv.indexOf("-accel") + 1));
        assertEquals("host", argv.get(argv.indexOf("-cpu") + 1));
        assertEquals(GuestImage.BASE_COMMAND_LINE, command.kernelCommandLine());
    }

    @Test
    void rejectsShapesNoGuestCanRun() throws IOException {
        GuestImage image = image();
        Path s = dir.resolve("s");
        assertEquals("memoryMib must be at least 64 (the JRE alone needs that), got 32",
                assertThrows(IllegalArgumentException.class,
                        () -> new QemuMicroVmCommand(Path.of("q"), image, Accelerator.TCG, 32, 1, s, "")).getMessage());
        assertEquals("vcpus must be within 1..16, got 0",
                assertThrows(IllegalArgumentException.class,
                        () -> new QemuMicroVmCommand(Path.of("q"), image, Accelerator.TCG, 128, 0, s, "")).getMessage());
    }

    @Test
    void findsQemuOnThePathOrThroughTheEnvironment() throws IOException {
        Path bin = Files.createDirectory(dir.resolve("bin"));
        Path qemu = bin.resolve(QemuBinary.NAME);
        Files.writeString(qemu, "#!/bin/sh\n");
        qemu.toFile().setExecutable(true);
        assertEquals(qemu, QemuBinary.find(java.util.Map.of("PATH", "/nonexistent:" + bin)).orElseThrow());
        assertEquals(java.util.Optional.empty(), QemuBinary.find(java.util.Map.of("PATH", "/nonexistent")));
        assertEquals(qemu, QemuBinary.find(java.util.Map.of(QemuBinary.ENV, qemu.toString(), "PATH", "")).orElseThrow());
        QemuException e = assertThrows(QemuException.class,
                () -> QemuBinary.find(java.util.Map.of(QemuBinary.ENV, "/no/such/qemu")));
        assertEquals("KILN_QEMU=/no/such/qemu is not an executable file", e.getMessage());
    }
}
