package io.kiln.invoker.engine;

import io.kiln.microvm.boot.HostCpu;
import io.kiln.microvm.console.ConsoleLog;
import io.kiln.microvm.group.VmHosts;
import io.kiln.microvm.image.GuestImage;
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
 *
 * <p>VMs run in VMM host processes, one per VM group ({@link VmHosts}), under the VMM seccomp
 * filter, started ahead of need; {@value #MODE_PROPERTY}{@code =in-gateway} runs them in the
 * gateway's own JVM instead, as before (for comparison benchmarks).
 */
public final class KvmEngine extends VmEngine {
    /** {@code group} (the default): VMM host processes; {@code in-gateway}: KvmMicroVms in this JVM. */
    public static final String MODE_PROPERTY = "kiln.kvm.vmm";
    /** The group every VM runs in until the invoker names a VM's group. */
    static final VmHosts.Group DEFAULT_GROUP = VmHosts.Group.unjailed("kvm");

    /** Null in the in-gateway mode. */
    private final VmHosts groups;

    public KvmEngine(GuestImage image) {
        this(image, HostCpu::currentFingerprint, null);
    }

    /** {@code hostCpu}: the host CPU fingerprint for the snapshot key (tests give a fixed one). */
    KvmEngine(GuestImage image, Supplier<String> hostCpu) {
        this(image, hostCpu, null);
    }

    /** {@code groups}: the VMM host processes to run VMs in; null runs them in this JVM. */
    KvmEngine(GuestImage image, Supplier<String> hostCpu, VmHosts groups) {
        super(image, hostCpu);
        this.groups = groups;
    }

    /** Starts the group's VMM host process in the background, if it has none. */
    @Override
    public void groupNeeded(String group) {
        if (groups != null) {
            groups.prestart(DEFAULT_GROUP);
        }
    }

    /**
     * The engine as {@value #MODE_PROPERTY} says: with VMM host processes working in
     * {@code workRoot/vmm} (the default), or in this JVM.
     */
    public static KvmEngine create(GuestImage image, Path workRoot) {
        String mode = System.getProperty(MODE_PROPERTY, "group");
        return switch (mode) {
            case "group" -> new KvmEngine(image, HostCpu::currentFingerprint, sharedGroups(workRoot.resolve("vmm")));
            case "in-gateway" -> new KvmEngine(image);
            default -> throw new IllegalArgumentException(MODE_PROPERTY + " is group or in-gateway, not " + mode);
        };
    }

    /**
     * One set of host processes per work root and JVM: tests start several invokers in one JVM
     * (each would otherwise start its own processes for the same groups), and a shutdown hook
     * stops them with the JVM (they would die with it anyway: stdin ends, and the kernel's
     * parent-death signal).
     */
    private static synchronized VmHosts sharedGroups(Path root) {
        return SHARED.computeIfAbsent(root.toAbsolutePath().normalize(), r -> {
            VmHosts g = new VmHosts(r, null, true);
            Runtime.getRuntime().addShutdownHook(new Thread(g::close, "kiln-vmm-shutdown"));
            return g;
        });
    }

    private static final java.util.Map<Path, VmHosts> SHARED = new java.util.HashMap<>();

    /** The host processes, or null in the in-gateway mode. */
    public VmHosts groups() {
        return groups;
    }

    @Override
    public String name() {
        return "kvm";
    }

    @Override
    public MicroVm boot(int memoryMib, boolean snapshotable, Consumer<String> console) throws IOException {
        if (groups != null) {
            return started(groups.host(DEFAULT_GROUP).boot(memoryMib, image.kernel(), image.initramfs(),
                    GuestImage.BASE_COMMAND_LINE, true, true, console));
        }
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
    public MicroVm restore(Path directory, boolean snapshotable, Consumer<String> console) throws IOException {
        if (groups != null) {
            return started(groups.host(DEFAULT_GROUP).restore(directory, console));
        }
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
        return "kvm (Java engine, guest image " + image.id() + ", "
                + (groups == null ? "VMs in the gateway's JVM" : "VMs in VMM host processes under seccomp") + ")";
    }
}
