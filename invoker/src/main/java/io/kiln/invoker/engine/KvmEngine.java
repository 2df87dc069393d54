package io.kiln.invoker.engine;

import io.kiln.microvm.boot.HostCpu;
import io.kiln.microvm.console.ConsoleLog;
import io.kiln.microvm.group.VmHost;
import io.kiln.microvm.group.VmHosts;
import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.jail.JailSpec;
import io.kiln.microvm.jail.Jailer;
import io.kiln.microvm.jail.VmGroup;
import io.kiln.microvm.vm.KvmMicroVm;
import io.kiln.microvm.vm.KvmSnapshots;
import io.kiln.microvm.vm.MicroVm;
import io.kiln.microvm.vm.MicroVmConfig;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The Java KVM engine, the default on hardware KVM hosts. Its snapshots are always
 * restorable (guest memory is written out whole), so {@code snapshotable} changes nothing.
 *
 * <p>VMs run in VMM host processes, one per VM group ({@link VmHosts}: a function's VMs share
 * one, the base builds have their own), each under the VMM seccomp filter and, when jails are
 * on, in the group's jail. A group's process is started ahead of need ({@link #groupNeeded}).
 * {@value #MODE_PROPERTY}{@code =in-gateway} runs the VMs in the gateway's own JVM instead, as
 * before (for comparison benchmarks).
 *
 * <p>What a jailed group's process sees: the guest image's kernel and initramfs, this engine's
 * snapshot directory read-only (base snapshots are restored from it; every function's directory
 * below it is its uid's alone, mode 0700, so no other group can enter it), and read-write its
 * own function directory (its snapshots are written there by the VMM, as its uid) or, for the
 * base group, the snapshot directory (the base snapshots). Plus the JDK, the class path and its
 * work dir ({@link VmHosts}).
 */
public final class KvmEngine extends VmEngine {
    /** {@code group} (the default): VMM host processes; {@code in-gateway}: KvmMicroVms in this JVM. */
    public static final String MODE_PROPERTY = "kiln.kvm.vmm";
    /**
     * What one VM costs beyond its guest memory, in MiB, for its group's memory limit: the group's
     * host JVM (about 45 MB RSS idle, measured) with a boot's kernel in its heap (18 MB), plus the
     * VM's threads and device buffers, with headroom. The base group runs one VM at a time, so its
     * limit (guest memory + this) must hold the whole JVM while the guest touches nearly all its
     * RAM (the lab's first try, 64, had the base group's process killed by its cgroup); a
     * function's holds two or more.
     */
    static final int VM_OVERHEAD_MIB = 128;

    /** Null in the in-gateway mode. */
    private final VmHosts hosts;
    private final Optional<Jailer> jailer;
    /** Where the invoker keeps this engine's snapshots ({@link #snapshotsAt}); a jail binds it. */
    private volatile Path snapshots;

    public KvmEngine(GuestImage image) {
        this(image, HostCpu::currentFingerprint);
    }

    /** {@code hostCpu}: the host CPU fingerprint for the snapshot key (tests give a fixed one). */
    KvmEngine(GuestImage image, Supplier<String> hostCpu) {
        this(image, hostCpu, null, Optional.empty());
    }

    /** {@code hosts}: the VMM host processes to run VMs in, null to run them in this JVM. */
    KvmEngine(GuestImage image, Supplier<String> hostCpu, VmHosts hosts, Optional<Jailer> jailer) {
        super(image, hostCpu);
        this.hosts = hosts;
        this.jailer = hosts == null ? Optional.empty() : jailer;
    }

    /**
     * The engine as {@value #MODE_PROPERTY} says: VMM host processes working in
     * {@code workRoot/vmm} (the default), jailed by {@code jailer} if given, or VMs in this JVM.
     */
    public static KvmEngine create(GuestImage image, Path workRoot, Optional<Jailer> jailer) {
        String mode = System.getProperty(MODE_PROPERTY, "group");
        return switch (mode) {
            case "group" -> new KvmEngine(image, HostCpu::currentFingerprint,
                    sharedHosts(workRoot.resolve("vmm"), jailer.orElse(null)), jailer);
            case "in-gateway" -> new KvmEngine(image);
            default -> throw new IllegalArgumentException(MODE_PROPERTY + " is group or in-gateway, not " + mode);
        };
    }

    private static final Map<Path, VmHosts> SHARED = new HashMap<>();

    /**
     * One set of host processes per work root and JVM: tests start invokers on one data dir
     * again and again in one JVM, and a group must not get two processes. A shutdown hook stops
     * them with the JVM (they would die with it anyway: their stdin ends, and the kernel's
     * parent-death signal).
     */
    private static synchronized VmHosts sharedHosts(Path root, Jailer jailer) {
        return SHARED.computeIfAbsent(root.toAbsolutePath().normalize(), r -> {
            VmHosts h = new VmHosts(r, jailer, true);
            Runtime.getRuntime().addShutdownHook(new Thread(h::close, "kiln-vmm-shutdown"));
            return h;
        });
    }

    /** The host processes, or null in the in-gateway mode. */
    public VmHosts hosts() {
        return hosts;
    }

    @Override
    public boolean jailed() {
        return jailer.isPresent();
    }

    @Override
    public String name() {
        return "kvm";
    }

    @Override
    public int vmOverheadMib() {
        return VM_OVERHEAD_MIB;
    }

    @Override
    public void snapshotsAt(Path directory) {
        this.snapshots = directory.toAbsolutePath().normalize();
    }

    @Override
    public void groupNeeded(VmGroup group) {
        if (hosts != null) {
            try {
                hosts.prestart(hostGroup(group));
            } catch (IOException | RuntimeException e) {
                System.getLogger(KvmEngine.class.getName()).log(System.Logger.Level.WARNING,
                        "cannot prepare the VMM host process of " + group.name() + ": " + e.getMessage());
            }
        }
    }

    @Override
    public void groupGone(String group) {
        if (hosts != null) {
            hosts.stop(group);
        }
    }

    @Override
    public MicroVm boot(VmGroup group, int memoryMib, boolean snapshotable, Consumer<String> console) throws IOException {
        if (hosts != null) {
            return started(host(group).boot(memoryMib, image.kernel(), image.initramfs(), GuestImage.BASE_COMMAND_LINE,
                    true, true, console));
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
    public MicroVm restore(VmGroup group, Path directory, boolean snapshotable, Consumer<String> console) throws IOException {
        if (hosts != null) {
            return started(host(group).restore(directory, console));
        }
        return started(KvmSnapshots.restore(directory, lines(console)));
    }

    private VmHost host(VmGroup group) throws IOException {
        return hosts.host(hostGroup(group));
    }

    /** The group's host process: unjailed without a jailer, else in the jail the class comment describes. */
    private VmHosts.Group hostGroup(VmGroup group) throws IOException {
        if (jailer.isEmpty()) {
            return VmHosts.Group.unjailed(group.name());
        }
        Path root = snapshots;
        if (root == null) {
            throw new IllegalStateException("the Java engine's jails need the snapshot directory (snapshotsAt)");
        }
        Files.createDirectories(root);
        List<Path> image0 = List.of(image.kernel(), image.initramfs());
        if (group.name().equals(VmGroup.BASE)) {
            // Base snapshots are written here by the base group and read by every group.
            group.own(root);
            return new VmHosts.Group(group.name(), group.spec(image0, List.of(root), true));
        }
        Path own = root.resolve("functions").resolve(group.name());
        Files.createDirectories(own);
        group.own(own);
        Files.setPosixFilePermissions(own, PosixFilePermissions.fromString("rwx------"));
        List<Path> readOnly = new java.util.ArrayList<>(image0);
        readOnly.add(root);
        JailSpec spec = group.spec(readOnly, List.of(own), true);
        return new VmHosts.Group(group.name(), spec);
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
                + (hosts == null ? "VMs in the gateway's JVM" : "VMs in VMM host processes under seccomp"
                + (jailer.isPresent() ? ", jailed per function" : "")) + ")";
    }
}
