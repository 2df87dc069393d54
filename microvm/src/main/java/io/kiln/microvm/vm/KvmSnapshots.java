package io.kiln.microvm.vm;

import io.kiln.microvm.devices.virtio.console.ConsoleDevice;
import io.kiln.microvm.devices.virtio.console.ConsoleState;
import io.kiln.microvm.devices.virtio.mmio.MmioTransport;
import io.kiln.microvm.devices.virtio.rng.RngDevice;
import io.kiln.microvm.devices.virtio.rng.RngState;
import io.kiln.microvm.devices.virtio.Virtio;
import io.kiln.microvm.boot.HostCpu;
import io.kiln.microvm.kvm.Ioctls;
import io.kiln.microvm.kvm.Kvm;
import io.kiln.microvm.kvm.VcpuFd;
import io.kiln.microvm.kvm.VmFd;
import io.kiln.microvm.memory.GuestMemory;
import io.kiln.microvm.snapshot.HostCpuMismatchException;
import io.kiln.microvm.snapshot.KvmStateIo;
import io.kiln.microvm.snapshot.Snapshot;
import io.kiln.microvm.snapshot.SnapshotFormat;
import io.kiln.microvm.snapshot.SnapshotFormatException;
import io.kiln.microvm.snapshot.VcpuState;
import io.kiln.microvm.snapshot.VirtioDeviceState;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Snapshot save and restore for {@link KvmMicroVm}. Save: the VM is paused (vCPUs parked after
 * completing any in-flight I/O, device thread idle), then RAM goes to {@code memory} and
 * everything else to {@code vmstate} ({@link SnapshotFormat}), with the host CPU and TSC rate it
 * was taken on; a restore on another CPU throws {@link HostCpuMismatchException}. Restore maps {@code memory}
 * MAP_PRIVATE, so it costs O(devices) whatever the RAM size, clones share untouched pages, each
 * clone's writes are its own, and the snapshot files are never written.
 */
public final class KvmSnapshots {
    private KvmSnapshots() {
    }

    static void save(KvmMicroVm vm, Path directory) throws IOException {
        Files.createDirectories(directory);
        Kvm kvm = vm.kvm();
        List<Integer> msrs = KvmStateIo.msrsToSave(kvm.msrIndexList(), vm.vcpuFds().get(0));
        List<VcpuState> vcpus = new ArrayList<>();
        for (VcpuFd v : vm.vcpuFds()) {
            vcpus.add(KvmStateIo.save(v, msrs));
        }
        int tscKhz = kvm.checkExtension(Ioctls.CAP_GET_TSC_KHZ) > 0 ? vm.vcpuFds().get(0).getTscKhz() : 0;
        VmDevices d = vm.devices();
        List<VirtioDeviceState> virtio = new ArrayList<>();
        for (int i = 0; i < d.transports().size(); i++) {
            MmioTransport t = d.transports().get(i);
            long acked;
            boolean needsReset;
            int portStage = 0;
            boolean portOpen = false;
            if (t.device() instanceof ConsoleDevice c) {
                ConsoleState s = c.state();
                acked = s.ackedFeatures();
                needsReset = s.needsReset();
                portStage = s.stage().code();
                portOpen = s.guestOpen();
            } else if (t.device() instanceof RngDevice r) {
                RngState s = r.state();
                acked = s.ackedFeatures();
                needsReset = s.needsReset();
            } else {
                throw new IllegalStateException("no snapshot support for " + t.device());
            }
            virtio.add(new VirtioDeviceState(i, t.device().deviceType(), t.state(), acked, needsReset, portStage, portOpen));
        }
        MicroVmConfig c = vm.config();
        Snapshot snapshot = new Snapshot(c.vcpus(), vm.memory().totalSize(), c.kernel().toString(), c.commandLine(),
                HostCpu.of(kvm.supportedCpuid()), tscKhz, vcpus, KvmStateIo.save(vm.vmFd()), d.serial().state(), virtio);
        vm.memory().saveTo(directory.resolve(Snapshot.MEMORY_FILE));
        Path tmp = directory.resolve(Snapshot.STATE_FILE + ".tmp");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp))) {
            SnapshotFormat.write(snapshot, out);
        }
        Files.move(tmp, directory.resolve(Snapshot.STATE_FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    public static Snapshot read(Path directory) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(directory.resolve(Snapshot.STATE_FILE)))) {
            return SnapshotFormat.read(in);
        }
    }

    /**
     * A paused clone of the snapshot in {@code directory}; {@link MicroVm#resume()} runs it.
     *
     * @throws HostCpuMismatchException if the snapshot was taken on another CPU, or its TSC ran
     *     at a rate this host differs from by more than 250 ppm and cannot scale to: rebuild it here
     */
    public static KvmMicroVm restore(Path directory, java.io.OutputStream consoleLog) throws IOException {
        Snapshot s = read(directory);
        Path memoryFile = directory.resolve(Snapshot.MEMORY_FILE);
        if (Files.size(memoryFile) != s.memoryBytes()) {
            throw new SnapshotFormatException("memory file is " + Files.size(memoryFile) + " bytes, snapshot says " + s.memoryBytes());
        }
        boolean console = s.virtio().stream().anyMatch(v -> v.deviceType() == Virtio.TYPE_CONSOLE);
        boolean rng = s.virtio().stream().anyMatch(v -> v.deviceType() == Virtio.TYPE_RNG);
        MicroVmConfig config = new MicroVmConfig(s.vcpus(), (int) (s.memoryBytes() >> 20), Path.of(s.kernel()), null,
                s.commandLine(), console, rng, consoleLog);

        Kvm kvm = Kvm.open();
        try {
            HostCpu here = HostCpu.of(kvm.supportedCpuid());
            if (!here.equals(s.hostCpu())) {
                throw new HostCpuMismatchException("snapshot " + directory + " was taken on " + s.hostCpu().describe()
                        + "; this host is " + here.describe(), s.hostCpu(), here);
            }
        } catch (RuntimeException | IOException e) {
            kvm.close();
            throw e;
        }
        VmFd vm = null;
        GuestMemory memory = null;
        List<VcpuFd> vcpus = new ArrayList<>();
        VmDevices devices = null;
        try {
            memory = GuestMemory.privateFile(s.memoryBytes(), memoryFile);
            vm = KvmMicroVm.createVmFd(kvm, memory);
            devices = VmDevices.create(vm, memory, config);
            if (devices.transports().size() != s.virtio().size()) {
                throw new SnapshotFormatException("snapshot has " + s.virtio().size() + " virtio devices, rebuilt "
                        + devices.transports().size());
            }
            KvmStateIo.restore(vm, s.machine());
            devices.serial().restore(s.serial());
            for (VirtioDeviceState v : s.virtio()) {
                MmioTransport t = devices.transports().get(v.slot());
                if (t.device().deviceType() != v.deviceType()) {
                    throw new SnapshotFormatException("virtio slot " + v.slot() + " holds type " + v.deviceType()
                            + " in the snapshot, " + t.device().deviceType() + " here");
                }
                t.restore(v.transport());
                if (t.device() instanceof ConsoleDevice c) {
                    c.restore(new ConsoleState(v.deviceAckedFeatures(), v.deviceNeedsReset(), portStage(v), v.devicePortGuestOpen()));
                } else if (t.device() instanceof RngDevice r) {
                    r.restore(new RngState(v.deviceAckedFeatures(), v.deviceNeedsReset()));
                }
            }
            for (VcpuState vs : s.vcpuStates()) {
                VcpuFd v = vm.createVcpu(vs.id());
                vcpus.add(v);
                matchTsc(kvm, v, s, directory);
                KvmStateIo.restore(v, vs);
            }
            devices.kickAllQueues();
            return KvmMicroVm.restored(kvm, vm, memory, vcpus, devices, config);
        } catch (RuntimeException | IOException e) {
            KvmMicroVm.closeHalfBuilt(kvm, vm, memory, vcpus, devices);
            throw e;
        }
    }

    private static ConsoleState.Stage portStage(VirtioDeviceState v) throws SnapshotFormatException {
        try {
            return ConsoleState.Stage.ofCode(v.devicePortStage());
        } catch (IllegalArgumentException e) {
            throw new SnapshotFormatException("virtio slot " + v.slot() + ": " + e.getMessage());
        }
    }

    /**
     * Before any other vCPU state (the TSC MSR is written in the guest's units): makes the
     * vCPU's TSC run at the snapshot's rate when this host's differs by more than the tolerance
     * and KVM can scale it (KVM_CAP_TSC_CONTROL); fails as a host mismatch when it cannot.
     */
    private static void matchTsc(Kvm kvm, VcpuFd v, Snapshot s, Path directory) throws HostCpuMismatchException {
        if (s.tscKhz() == 0 || kvm.checkExtension(Ioctls.CAP_GET_TSC_KHZ) == 0) {
            return;
        }
        int here = v.getTscKhz();
        if (!KvmStateIo.tscNeedsScaling(s.tscKhz(), here)) {
            return;
        }
        if (kvm.checkExtension(Ioctls.CAP_TSC_CONTROL) == 0) {
            throw new HostCpuMismatchException("snapshot " + directory + " ran its TSC at " + s.tscKhz() + " kHz; this host's runs at "
                    + here + " kHz and KVM cannot scale it (no KVM_CAP_TSC_CONTROL)", s.hostCpu(), s.hostCpu());
        }
        v.setTscKhz(s.tscKhz());
    }
}
