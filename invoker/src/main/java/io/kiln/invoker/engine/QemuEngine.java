package io.kiln.invoker.engine;

import io.kiln.microvm.boot.HostCpu;
import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.qemu.Accelerator;
import io.kiln.microvm.qemu.QemuGuest;
import io.kiln.microvm.jail.Jail;
import io.kiln.microvm.jail.Jailer;
import io.kiln.microvm.jail.VmGroup;
import io.kiln.microvm.qemu.QemuVmConfig;
import io.kiln.microvm.vm.MicroVm;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** The QEMU {@code microvm} engine: KVM-accelerated on hardware hosts, TCG everywhere else. */
public final class QemuEngine extends VmEngine {

    /**
     * What one QEMU costs beyond its guest RAM, measured on qemu-tcg (bench/jail.sh, an idle
     * instance after a call: its private memory minus the guest RAM it touched) with headroom:
     * TCG's translated code, QEMU's heap and its threads' stacks.
     */
    static final int VM_OVERHEAD_MIB = 160;

    private final Accelerator accelerator;
    /** QEMU's jails, or empty: QEMU then runs as this JVM's user, as it did before jails. */
    private final Optional<Jailer> jailer;

    public QemuEngine(GuestImage image, Accelerator accelerator, Optional<Jailer> jailer) {
        this(image, accelerator, HostCpu::currentFingerprint, jailer);
    }

    /** {@code hostCpu}: the host CPU fingerprint for the snapshot key under KVM (tests give a fixed one). */
    QemuEngine(GuestImage image, Accelerator accelerator, Supplier<String> hostCpu, Optional<Jailer> jailer) {
        super(image, accelerator == Accelerator.KVM ? hostCpu : () -> null);
        this.accelerator = accelerator;
        this.jailer = jailer;
    }

    @Override
    public boolean jailed() {
        return jailer.isPresent();
    }

    @Override
    public int vmOverheadMib() {
        return VM_OVERHEAD_MIB;
    }

    @Override
    public String name() {
        return "qemu-" + accelerator.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public MicroVm boot(VmGroup group, int memoryMib, boolean snapshotable, Consumer<String> console) {
        QemuVmConfig config = new QemuVmConfig(image, accelerator, memoryMib, 1, "");
        return started(jailer.isPresent()
                ? QemuGuest.boot(config, snapshotable, console, new Jail(jailer.get(), group))
                : QemuGuest.boot(config, snapshotable, console));
    }

    @Override
    public MicroVm restore(VmGroup group, Path directory, boolean snapshotable, Consumer<String> console) {
        return started(jailer.isPresent()
                ? QemuGuest.restore(directory, accelerator, snapshotable, console, new Jail(jailer.get(), group))
                : QemuGuest.restore(directory, accelerator, snapshotable, console));
    }

    @Override
    public String toString() {
        return name() + " (guest image " + image.id() + (jailer.isPresent() ? ", jailed" : "") + ")";
    }
}
