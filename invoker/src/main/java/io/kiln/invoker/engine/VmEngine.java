package io.kiln.invoker.engine;

import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.vm.MicroVm;
import java.util.function.Supplier;

/** What the two microVM engines share: a guest image, isolation, snapshots keyed by both and the host CPU. */
abstract class VmEngine implements Engine {

    final GuestImage image;
    private final Supplier<String> hostCpu;
    private volatile String hostCpuFingerprint;

    /**
     * {@code hostCpu} gives the host CPU's fingerprint ({@code HostCpu.currentFingerprint}) for
     * engines whose guests run on the host's CPU through KVM, or null where the guest's CPU is
     * emulated and the same on every host (QEMU's TCG). Asked once, when the key is first needed.
     */
    VmEngine(GuestImage image, Supplier<String> hostCpu) {
        this.image = image;
        this.hostCpu = hostCpu;
    }

    @Override
    public final boolean isolated() {
        return true;
    }

    @Override
    public final boolean snapshots() {
        return true;
    }

    /**
     * {@code <engine>-<guest image id>} under TCG, {@code <engine>-<guest image id>-<host CPU
     * fingerprint>} on KVM (12 hex digits of {@code HostCpu}: vendor, family/model/stepping and
     * KVM's supported CPUID). The name includes QEMU's accelerator: TCG and KVM snapshots differ in
     * CPU model. With the host CPU in the key, snapshots taken on another CPU (a data directory
     * moved to another machine, a host whose KVM now offers other features) are dropped and
     * rebuilt lazily, like those of an older guest image, rather than restored.
     */
    @Override
    public final String snapshotKey() {
        String cpu = hostCpuFingerprint;
        if (cpu == null) {
            cpu = hostCpu.get();
            cpu = cpu == null ? "" : "-" + cpu;
            hostCpuFingerprint = cpu;
        }
        return name() + "-" + image.id() + cpu;
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
