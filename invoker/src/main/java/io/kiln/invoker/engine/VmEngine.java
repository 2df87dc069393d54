package io.kiln.invoker.engine;

import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.vm.MicroVm;

/** What the two microVM engines share: a guest image, isolation, snapshots keyed by both. */
abstract class VmEngine implements Engine {

    final GuestImage image;

    VmEngine(GuestImage image) {
        this.image = image;
    }

    @Override
    public final boolean isolated() {
        return true;
    }

    @Override
    public final boolean snapshots() {
        return true;
    }

    /** The name includes QEMU's accelerator: TCG and KVM snapshots differ in CPU model. */
    @Override
    public final String snapshotKey() {
        return name() + "-" + image.id();
    }

    @Override
    public final int minimumMemoryMib() {
        return image.minimumMemoryMib();
    }

    /** Starts {@code vm}; a VM that fails to start is destroyed, never leaked. */
    static MicroVm started(MicroVm vm) {
        try {
            vm.start();
            return vm;
        } catch (RuntimeException e) {
            vm.destroy();
            throw e;
        }
    }
}
