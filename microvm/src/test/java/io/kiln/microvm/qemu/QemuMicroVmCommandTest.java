package io.kiln.microvm.qemu;

import io.kiln.microvm.image.GuestImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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
    void bootsAnImageWithAnonymousMemory() throws IOException {
        GuestImage image = image();
        var config = new QemuVmConfig(image, Accelerator.TCG, 512, 2, " quiet ");
        var command = new QemuMicroVmCommand(Path.of("/usr/bin/qemu-system-x86_64"), config, new GuestRam.Anonymous(),
                dir.resolve("ch.sock"), dir.resolve("qmp.sock"), false);
        Path d = image.directory();
        assertEquals(List.of(
                "/usr/bin/qemu-system-x86_64",
                "-M", "microvm,acpi=off,x-option-roms=off,rtc=off",
                "-accel", "tcg", "-cpu", "max",
                "-m", "512M", "-smp", "2",
                "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
                "-S", "-no-reboot", "-serial", "stdio",
                "-kernel", d.resolve("vmlinux").toString(),
                "-initrd", d.resolve("initramfs.cpio").toString(),
                "-append", "console=ttyS0 quiet reboot=t panic=-1 mitigations=off quiet",
                "-device", "virtio-serial-device,max_ports=2",
                "-chardev", "socket,id=channel,path=" + dir.resolve("ch.sock"),
                "-device", "virtserialport,chardev=channel,nr=1,name=kiln.channel",
                "-object", "rng-random,id=rng,filename=/dev/urandom",
                "-device", "virtio-rng-device,rng=rng",
                "-qmp", "unix:" + dir.resolve("qmp.sock") + ",server=on,wait=off"), command.argv());
        assertEquals("abc123", image.id());
    }

    @Test
    void aSnapshotableGuestHasItsRamInASharedFile() throws IOException {
        var config = new QemuVmConfig(image(), Accelerator.KVM, 256, 1, null);
        List<String> argv = new QemuMicroVmCommand(Path.of("q"), config, new GuestRam.SharedFile(Path.of("/d/memory")),
                Path.of("c"), Path.of("m"), false).argv();
        assertEquals("microvm,acpi=off,x-option-roms=off,rtc=off,memory-backend=ram", argv.get(argv.indexOf("-M") + 1));
        assertEquals("memory-backend-file,id=ram,size=256M,mem-path=/d/memory,share=on", argv.get(argv.indexOf("-object") + 1));
        assertEquals("kvm", argv.get(argv.indexOf("-accel") + 1));
        assertEquals("host", argv.get(argv.indexOf("-cpu") + 1));
        assertEquals(-1, argv.indexOf("-incoming"));
        assertEquals(GuestImage.BASE_COMMAND_LINE, config.kernelCommandLine());
    }

    @Test
    void aRestoredGuestMapsTheSnapshotPrivatelyAndWaitsForItsState() throws IOException {
        var config = new QemuVmConfig(image(), Accelerator.TCG, 256, 1, "");
        List<String> argv = new QemuMicroVmCommand(Path.of("q"), config, new GuestRam.PrivateFile(Path.of("/s/memory")),
                Path.of("c"), Path.of("m"), true).argv();
        assertEquals("memory-backend-file,id=ram,size=256M,mem-path=/s/memory,share=off", argv.get(argv.indexOf("-object") + 1));
        assertEquals(List.of("-incoming", "defer"), argv.subList(argv.size() - 2, argv.size()));
    }

    @Test
    void commasInPathsCannotSmuggleOptions() throws IOException {
        var config = new QemuVmConfig(image(), Accelerator.TCG, 256, 1, "");
        List<String> argv = new QemuMicroVmCommand(Path.of("q"), config, new GuestRam.PrivateFile(Path.of("/s/x,share=on/memory")),
                Path.of("/t/a,b/ch.sock"), Path.of("/t/a,b/qmp.sock"), true).argv();
        assertEquals("memory-backend-file,id=ram,size=256M,mem-path=/s/x,,share=on/memory,share=off",
                argv.get(argv.indexOf("-object") + 1));
        assertEquals("socket,id=channel,path=/t/a,,b/ch.sock", argv.get(argv.indexOf("-chardev") + 1));
        assertEquals("unix:/t/a,,b/qmp.sock,server=on,wait=off", argv.get(argv.indexOf("-qmp") + 1));
    }

    @Test
    void rejectsShapesNoGuestCanRun() throws IOException {
        GuestImage image = image();
        // A 1-byte initramfs: 2 x 1 MiB + 64 MiB.
        assertEquals(66, image.minimumMemoryMib());
        assertEquals("guest image abc123 needs at least 66 MiB of memory (its initramfs is unpacked into RAM, then the JVM runs), got 65",
                assertThrows(IllegalArgumentException.class,
                        () -> new QemuVmConfig(image, Accelerator.TCG, 65, 1, "")).getMessage());
        assertEquals("vcpus must be within 1..16, got 0",
                assertThrows(IllegalArgumentException.class,
                        () -> new QemuVmConfig(image, Accelerator.TCG, 128, 0, "")).getMessage());
    }

    @Test
    void findsQemuOnThePathOrThroughTheEnvironment() throws IOException {
        Path bin = Files.createDirectory(dir.resolve("bin"));
        Path qemu = bin.resolve(QemuBinary.NAME);
        Files.writeString(qemu, "#!/bin/sh\n");
        qemu.toFile().setExecutable(true);
        assertEquals(qemu, QemuBinary.find(Map.of("PATH", "/nonexistent:" + bin)).orElseThrow());
        assertEquals(Optional.empty(), QemuBinary.find(Map.of("PATH", "/nonexistent")));
        assertEquals(qemu, QemuBinary.find(Map.of(QemuBinary.ENV, qemu.toString(), "PATH", "")).orElseThrow());
        QemuException e = assertThrows(QemuException.class, () -> QemuBinary.find(Map.of(QemuBinary.ENV, "/no/such/qemu")));
        assertEquals("KILN_QEMU=/no/such/qemu is not an executable file", e.getMessage());
    }
}
