package io.kiln.microvm.vm;

import io.kiln.microvm.boot.BootLayout;
import io.kiln.microvm.boot.LinuxBoot;
import io.kiln.microvm.boot.VcpuSetup;
import io.kiln.microvm.devices.Bus;
import io.kiln.microvm.kvm.CpuidEntry;
import io.kiln.microvm.kvm.Ioctls;
import io.kiln.microvm.kvm.Kvm;
import io.kiln.microvm.kvm.VcpuFd;
import io.kiln.microvm.kvm.VmFd;
import io.kiln.microvm.memory.GuestMemory;
import io.kiln.microvm.memory.MemoryRegion;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The Java KVM engine's {@link MicroVm}: a VM fd with in-kernel irqchip and PIT, guest RAM, one
 * {@link VcpuRunner} thread per vCPU, the legacy devices on the port bus and virtio-mmio devices
 * on the MMIO bus. Built fresh from a config by {@link #create}, or from a snapshot by
 * {@link KvmSnapshots#restore}.
 */
public final class KvmMicroVm implements MicroVm {
    private static final System.Logger LOG = System.getLogger(KvmMicroVm.class.getName());
    private final Kvm kvm;
    private final VmFd vm;
    private final GuestMemory memory;
    private final List<VcpuFd> vcpus;
    private final List<VcpuRunner> runners = new ArrayList<>();
    private final VmDevices devices;
    private final MicroVmConfig config;
    private final CompletableFuture<VmExit> exit = new CompletableFuture<>();
    private final ReentrantLock lifecycle = new ReentrantLock();
    private final Object stateLock = new Object();
    private final boolean kvmclockCtrl;
    private volatile boolean destroyRequested;
    /** Runs on the vCPU thread as the guest stops, before anything else: lets a test hold it there. */
    volatile Runnable beforeGuestStop = () -> { };
    private VmState state = VmState.CREATED;

    KvmMicroVm(Kvm kvm, VmFd vm, GuestMemory memory, List<VcpuFd> vcpus, VmDevices devices, MicroVmConfig config) {
        this.kvm = kvm;
        this.vm = vm;
        this.memory = memory;
        this.vcpus = vcpus;
        this.devices = devices;
        this.config = config;
        this.kvmclockCtrl = kvm.checkExtension(Ioctls.CAP_KVMCLOCK_CTRL) > 0;
        devices.onReset(() -> stopFromGuest(new VmExit(VmExit.Reason.GUEST_RESET, "guest requested reset via i8042")));
        Bus pio = devices.pio();
        Bus mmio = devices.mmio();
        for (VcpuFd v : vcpus) {
            runners.add(new VcpuRunner(v, pio, mmio, this::stopFromGuest));
        }
    }

    /** Builds a VM ready to boot {@code config.kernel()}; call {@link #start()} to run it. */
    public static KvmMicroVm create(MicroVmConfig config) throws IOException {
        Kvm kvm = Kvm.open();
        VmFd vm = null;
        GuestMemory memory = null;
        List<VcpuFd> vcpus = new ArrayList<>();
        VmDevices devices = null;
        try {
            memory = GuestMemory.anonymous((long) config.memoryMib() << 20);
            vm = createVmFd(kvm, memory);
            devices = VmDevices.create(vm, memory, config);
            byte[] kernel = Files.readAllBytes(config.kernel());
            String cmdline = (config.commandLine() + devices.commandLineSuffix()).trim();
            LinuxBoot.BootInfo boot = LinuxBoot.load(memory, kernel, config.initrd(), cmdline, config.vcpus());
            List<CpuidEntry> cpuid = kvm.supportedCpuid();
            boolean tscDeadline = kvm.checkExtension(Ioctls.CAP_TSC_DEADLINE_TIMER) > 0;
            for (int i = 0; i < config.vcpus(); i++) {
                VcpuFd v = vm.createVcpu(i);
                vcpus.add(v);
                VcpuSetup.configure(v, config.vcpus(), boot.entry(), cpuid, tscDeadline);
            }
            return new KvmMicroVm(kvm, vm, memory, vcpus, devices, config);
        } catch (RuntimeException | IOException e) {
            closeHalfBuilt(kvm, vm, memory, vcpus, devices);
            throw e;
        }
    }

    /**
     * Releases what a create or restore that failed half way had made (any of it may be null),
     * devices included: their eventfds would otherwise leak with every failed start.
     */
    static void closeHalfBuilt(Kvm kvm, VmFd vm, GuestMemory memory, List<VcpuFd> vcpus, VmDevices devices) {
        vcpus.forEach(VcpuFd::close);
        if (devices != null) {
            devices.close();
        }
        if (memory != null) {
            memory.close();
        }
        if (vm != null) {
            vm.close();
        }
        kvm.close();
    }

    /**
     * The VM-level setup shared by fresh boots and restores. RAM is registered before the
     * irqchip and PIT exist: on kvm_pvm the first memory slot then costs ~0.1 ms instead of
     * ~7 ms (measured with a C probe doing the same ioctls in both orders), and Firecracker
     * uses the same order.
     */
    static VmFd createVmFd(Kvm kvm, GuestMemory memory) {
        VmFd vm = kvm.createVm();
        try {
            registerMemory(vm, memory);
            vm.setTssAddress(BootLayout.KVM_TSS_ADDR);
            vm.setIdentityMapAddress(BootLayout.KVM_IDENTITY_MAP_ADDR);
            vm.createIrqchip();
            vm.createPit2();
            return vm;
        } catch (RuntimeException e) {
            vm.close();
            throw e;
        }
    }

    static void registerMemory(VmFd vm, GuestMemory memory) {
        int slot = 0;
        for (MemoryRegion r : memory.regions()) {
            vm.setUserMemoryRegion(slot++, r.guestBase(), r.size(), r.hostPointer());
        }
    }

    /*
     * Locking. Two locks, so that no thread ever waits for a vCPU thread while holding a lock that
     * a vCPU thread needs:
     *  - lifecycle: held by host threads for a whole transition (start, pause, resume, snapshot,
     *    destroy), including while they wait for vCPU threads to park or end. vCPU threads never
     *    take it.
     *  - stateLock: guards `state` only, held for a read or a write and nothing else. vCPU threads
     *    take it when the guest stops (stopFromGuest), which therefore never waits for a pause.
     * A guest that resets while the host pauses: its vCPU thread completes `exit`, stops the
     * other runners, marks the VM STOPPED and ends; the pausing thread sees that runner gone and
     * returns, leaving the VM STOPPED.
     */

    @Override
    public void start() {
        lifecycle.lock();
        try {
            VmState s = state();
            if (s == VmState.PAUSED && runners.get(0).started()) {
                resume();
                return;
            }
            if ((s != VmState.CREATED && s != VmState.PAUSED) || destroyRequested) {
                throw new IllegalStateException("cannot start a VM in state " + s);
            }
            start0();
        } finally {
            lifecycle.unlock();
        }
    }

    /**
     * Parks every vCPU thread (after it completes any in-flight I/O), tells the guest's kvmclock
     * it was stopped by the host, and holds the device thread. A VM whose guest stopped (before
     * or during the pause) stays STOPPED: there is nothing left to pause.
     */
    @Override
    public void pause() {
        lifecycle.lock();
        try {
            VmState s = state();
            if (s == VmState.PAUSED || s == VmState.STOPPED) {
                return;
            }
            if (s != VmState.RUNNING) {
                throw new IllegalStateException("cannot pause a VM in state " + s);
            }
            for (int i = 0; i < runners.size(); i++) {
                if (runners.get(i).pause() && kvmclockCtrl) {
                    // Without it the guest's soft-lockup watchdog counts the pause as a hang.
                    vcpus.get(i).kvmclockCtrl();
                }
            }
            devices.pause();
            setState(VmState.RUNNING, VmState.PAUSED);
        } finally {
            lifecycle.unlock();
        }
    }

    @Override
    public void resume() {
        lifecycle.lock();
        try {
            VmState s = state();
            if (s == VmState.RUNNING) {
                return;
            }
            if (s != VmState.PAUSED || destroyRequested) {
                throw new IllegalStateException("cannot resume a VM in state " + s);
            }
            if (!runners.get(0).started()) {
                start0();
                return;
            }
            devices.resume();
            runners.forEach(VcpuRunner::resume);
            setState(VmState.PAUSED, VmState.RUNNING);
        } finally {
            lifecycle.unlock();
        }
    }

    private void start0() {
        devices.start();
        runners.forEach(VcpuRunner::start);
        synchronized (stateLock) {
            if (state == VmState.CREATED || state == VmState.PAUSED) {
                state = VmState.RUNNING;
            }
        }
    }

    @Override
    public void snapshot(Path directory) throws IOException {
        lifecycle.lock();
        try {
            if (state() == VmState.RUNNING) {
                pause();
            }
            VmState s = state();
            if (s != VmState.PAUSED && s != VmState.CREATED) {
                throw new IllegalStateException("cannot snapshot a VM in state " + s);
            }
            KvmSnapshots.save(this, directory);
        } finally {
            lifecycle.unlock();
        }
    }

    /**
     * Stops the vCPU threads first (so a pause in progress ends at once), then, holding the
     * lifecycle lock, waits for them and for the device thread, and frees everything. Guest RAM
     * is unmapped only once no thread can touch it: if the device thread has not returned from a
     * handler within {@link VmDevices#LOOP_STOP_TIMEOUT} (a VMM bug: handlers never block), the
     * mapping is leaked with a warning rather than unmapped under it, which would crash the JVM.
     */
    @Override
    public void destroy() {
        destroyRequested = true;
        runners.forEach(VcpuRunner::stop);
        lifecycle.lock();
        try {
            synchronized (stateLock) {
                if (state == VmState.DESTROYED) {
                    return;
                }
                state = VmState.DESTROYED;
            }
            runners.forEach(VcpuRunner::join);
            boolean devicesStopped = devices.stop();
            vcpus.forEach(VcpuFd::close);
            vm.close();
            if (devicesStopped) {
                memory.close();
            } else {
                LOG.log(System.Logger.Level.WARNING, "a device handler has not returned after "
                        + VmDevices.LOOP_STOP_TIMEOUT.toSeconds() + " s; leaking this VM's guest memory ("
                        + (memory.totalSize() >> 20) + " MiB) rather than unmapping it under the handler");
            }
            kvm.close();
        } finally {
            lifecycle.unlock();
        }
        exit.complete(new VmExit(VmExit.Reason.DESTROYED, "destroyed by the host"));
    }

    /** Called on a vCPU thread when the guest stops: stop the other vCPUs, complete the future. Never waits. */
    private void stopFromGuest(VmExit reason) {
        beforeGuestStop.run();
        if (exit.complete(reason)) {
            runners.forEach(VcpuRunner::stop);
            devices.guestStopped();
            synchronized (stateLock) {
                if (state != VmState.DESTROYED) {
                    state = VmState.STOPPED;
                }
            }
        }
    }

    private void setState(VmState from, VmState to) {
        synchronized (stateLock) {
            if (state == from) {
                state = to;
            }
        }
    }

    @Override
    public VmState state() {
        synchronized (stateLock) {
            return state;
        }
    }

    @Override
    public CompletableFuture<VmExit> exit() {
        return exit;
    }

    @Override
    public InputStream fromGuest() {
        return devices.fromGuest();
    }

    @Override
    public OutputStream toGuest() {
        return devices.toGuest();
    }

    /** Guest RAM, for the host side of tests and diagnostics. */
    public GuestMemory memory() {
        return memory;
    }

    public VmDevices devices() {
        return devices;
    }

    VmFd vmFd() {
        return vm;
    }

    List<VcpuFd> vcpuFds() {
        return vcpus;
    }

    MicroVmConfig config() {
        return config;
    }

    Kvm kvm() {
        return kvm;
    }

    /** Wraps a freshly restored VM (paused, threads not started). */
    static KvmMicroVm restored(Kvm kvm, VmFd vm, GuestMemory memory, List<VcpuFd> vcpus, VmDevices devices, MicroVmConfig config) {
        KvmMicroVm m = new KvmMicroVm(kvm, vm, memory, vcpus, devices, config);
        synchronized (m.stateLock) {
            m.state = VmState.PAUSED;
        }
        return m;
    }

}
