package io.kiln.invoker.engine;

import io.kiln.microvm.boot.HostCpu;
import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.qemu.Accelerator;
import io.kiln.microvm.qemu.QemuGuest;
import io.kiln.microvm.qemu.QemuVmConfig;
import io.kiln.microvm.vm.MicroVm;

import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** The QEMU {@code microvm} engine: KVM-accelerated on hardware hosts, TCG everywhere else. */
public final class QemuEngine extends VmEngine {

    private final Accelerator accelerator;

    public QemuEngine(GuestImage image, Accelerator accelerator) {
        this(image, accelerator, HostCpu::currentFingerprint);
    }

    /** {@code hostCpu}: the host CPU fingerprint for the snapshot key under KVM (tests give a fixed one). */
    QemuEngine(GuestImage image, Accelerator accelerator, Supplier<String> hostCpu) {
        super(image, accelerator == Accelerator.KVM ? hostCpu : () -> null);
        this.accelerator = accelerator;
    }

    @Override
    public String name() {
        return "qemu-" + accelerator.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public MicroVm boot(int memoryMib, boolean snapshotable, Consumer<String> console) {
        QemuGuest guest = QemuGuest.boot(new QemuVmConfig(image, accelerator, memoryMib, 1, ""), snapshotable,
                console);
        return started(guest);
    }

    @Override
    public MicroVm restore(Path directory, boolean snapshotable, Consumer<String> console) {
        return started(QemuGuest.restore(directory, accelerator, snapshotable, console));
    }

    @Override
    public String toString() {
        return name() + " (guest image " + image.id() + ")";
    }
}
