package io.kiln.microvm.probe;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Says whether {@code /dev/kvm} is hardware-backed, software-backed or unusable, by looking at
 * which kernel module provides it (sysfs) and whether we can open the device read-write. Plain
 * Java, no native calls, so it works even where JNA cannot load.
 */
public final class KvmProbe {
    private final Path device;
    private final Path sysModules;

    public KvmProbe(Path device, Path sysModules) {
        this.device = device;
        this.sysModules = sysModules;
    }

    public static KvmProbeResult probeHost() {
        return new KvmProbe(Path.of("/dev/kvm"), Path.of("/sys/module")).probe();
    }

    public KvmProbeResult probe() {
        if (!Files.exists(device)) {
            return new KvmProbeResult(KvmKind.ABSENT, device + " does not exist (no KVM module loaded, or not exposed to this container)");
        }
        try (RandomAccessFile f = new RandomAccessFile(device.toFile(), "rw")) {
            // Opened: the permission check passed.
        } catch (IOException e) {
            String msg = String.valueOf(e.getMessage());
            if (msg.contains("Permission denied") || !Files.isWritable(device)) {
                return new KvmProbeResult(KvmKind.NO_PERMISSION, device + " exists but user " + System.getProperty("user.name")
                        + " cannot open it read-write (add the user to group kvm): " + msg);
            }
            return new KvmProbeResult(KvmKind.UNUSABLE, device + " exists but cannot be opened: " + msg);
        }
        for (String hw : new String[] {"kvm_intel", "kvm_amd"}) {
            if (Files.isDirectory(sysModules.resolve(hw))) {
                return new KvmProbeResult(KvmKind.HARDWARE, hw, device + " is backed by hardware virtualisation (module " + hw + ")");
            }
        }
        if (Files.isDirectory(sysModules.resolve("kvm_pvm"))) {
            return new KvmProbeResult(KvmKind.SOFTWARE, "kvm_pvm", device + " is backed by the software hypervisor kvm_pvm: guest kernel code is"
                    + " emulated (~0.3 us/instruction), so only small test guests run; use the QEMU engine for Linux guests");
        }
        return new KvmProbeResult(KvmKind.UNUSABLE, device + " opens but neither kvm_intel, kvm_amd nor kvm_pvm is loaded under " + sysModules);
    }
}
