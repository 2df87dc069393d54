package io.kiln.invoker.engine;

import io.kiln.microvm.boot.HostCpu;
import io.kiln.microvm.console.ConsoleLog;
import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.jail.VmGroup;
import io.kiln.microvm.vm.KvmMicroVm;
import io.kiln.microvm.vm.KvmSnapshots;
import io.kiln.microvm.vm.MicroVm;
import io.kiln.microvm.vm.MicroVmConfig;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The Java KVM engine, the default on hardware KVM hosts. Its snapshots are always
 * restorable (guest memory is written out whole), so {@code snapshotable} changes nothing.
 */
public final class KvmEngine extends VmEngine {


    public KvmEngine(GuestImage image) {
        this(image, HostCpu::currentFingerprint);
    }

    /** {@code hostCpu}: the host CPU fingerprint for the snapshot key (tests give a fixed one). */
    KvmEngine(GuestImage image, Supplier<String> hostCpu) {
        super(image, hostCpu);
    }

    @Override
    public boolean jailed() {
        return false; // the VMM runs in this JVM
    }

    @Override
    public String name() {
        return "kvm";
    }

    @Override
    public int vmOverheadMib() {
        return 64; // the VMM's threads and device buffers in the gateway's JVM; not yet measured on its own
    }

    /** The VM runs in this JVM: the group is not used yet (no jail around the Java engine's VMM). */
    @Override
    public MicroVm boot(VmGroup group, int memoryMib, boolean snapshotable, Consumer<String> console) throws IOException {
        MicroVmConfig config = MicroVmConfig.builder()
                .memoryMib(memoryMib)
                .kernel(image.kernel())
                .initrd(image.initramfs())
                .commandLine(GuestImage.BASE_COMMAND_LINE)
                .functionChannel(true)
                .rng(true)
                .consoleLog(lines(console))
                .build();
        return started(KvmMicroVm.create(config));
    }

    @Override
    public MicroVm restore(VmGroup group, Path directory, boolean snapshotable, Consumer<String> console) throws IOException {
        return started(KvmSnapshots.restore(directory, lines(console)));
    }

    /** The Java engine writes console bytes; the invoker wants hostile-safe lines. */
    private static OutputStream lines(Consumer<String> console) {
        ConsoleLog log = new ConsoleLog(console, 1);
        return new OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[]{(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                log.accept(b, off, len);
            }
        };
    }

    @Override
    public String toString() {
        return "kvm (Java engine, guest image " + image.id() + ")";
    }
}
