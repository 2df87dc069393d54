package io.kiln.microvm.vm;

import io.kiln.microvm.devices.Bus;
import io.kiln.microvm.kvm.KvmRun;
import io.kiln.microvm.kvm.VcpuFd;
import io.kiln.microvm.kvm.VcpuKicker;
import java.util.function.Consumer;

/**
 * The thread that runs one vCPU: KVM_RUN, dispatch the exit to the port or MMIO bus, repeat.
 *
 * <p>Pausing: the controller sets {@code pauseRequested}, sets the run structure's
 * immediate_exit and signals the thread. KVM_RUN then returns EINTR, but only after completing
 * any in-flight port/MMIO read we answered (KVM finishes it on re-entry), so the saved registers
 * are consistent. Only on EINTR does the loop look at the pause/stop flags.
 */
final class VcpuRunner implements Runnable {
    private final VcpuFd vcpu;
    private final Bus pio;
    private final Bus mmio;
    private final Consumer<VmExit> onExit;
    private final Object lock = new Object();
    private Thread thread;
    private long pthread;
    private boolean alive;
    private boolean pauseRequested;
    private boolean parked;
    private boolean stopRequested;

    VcpuRunner(VcpuFd vcpu, Bus pio, Bus mmio, Consumer<VmExit> onExit) {
        this.vcpu = vcpu;
        this.pio = pio;
        this.mmio = mmio;
        this.onExit = onExit;
    }

    void start() {
        thread = new Thread(this, "kiln-vcpu-" + vcpu.id());
        thread.setDaemon(true);
        synchronized (lock) {
            alive = true;
        }
        thread.start();
    }

    @Override
    public void run() {
        synchronized (lock) {
            pthread = VcpuKicker.currentThread();
            lock.notifyAll();
        }
        KvmRun state = vcpu.runState();
        try {
            while (true) {
                if (!vcpu.run()) {
                    if (!awaitResume(state)) {
                        return;
                    }
                    continue;
                }
                VmExit exit = handleExit(state);
                if (exit != null) {
                    onExit.accept(exit);
                    return;
                }
            }
        } catch (RuntimeException e) {
            onExit.accept(new VmExit(VmExit.Reason.ERROR, "vCPU " + vcpu.id() + ": " + e));
        } finally {
            synchronized (lock) {
                alive = false;
                parked = false;
                lock.notifyAll();
            }
        }
    }

    /** Parks while paused. Returns false if the VM is stopping. */
    private boolean awaitResume(KvmRun state) {
        synchronized (lock) {
            while (true) {
                if (stopRequested) {
                    return false;
                }
                if (!pauseRequested) {
                    parked = false;
                    state.setImmediateExit(false);
                    lock.notifyAll();
                    return true;
                }
                parked = true;
                lock.notifyAll();
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
    }

    private VmExit handleExit(KvmRun state) {
        switch (state.exitReason()) {
            case KvmRun.EXIT_IO -> {
                long port = state.ioPort();
                for (int i = 0; i < state.ioCount(); i++) {
                    byte[] data = new byte[state.ioSize()];
                    if (state.ioDirection() == KvmRun.IO_OUT) {
                        System.arraycopy(state.ioData(), i * data.length, data, 0, data.length);
                        pio.write(port, data);
                    } else {
                        pio.read(port, data);
                        byte[] all = state.ioData();
                        System.arraycopy(data, 0, all, i * data.length, data.length);
                        state.setIoData(all);
                    }
                }
                return null;
            }
            case KvmRun.EXIT_MMIO -> {
                byte[] data = new byte[state.mmioLength()];
                if (state.mmioIsWrite()) {
                    mmio.write(state.mmioAddress(), state.mmioData());
                } else {
                    mmio.read(state.mmioAddress(), data);
                    state.setMmioData(data);
                }
                return null;
            }
            case KvmRun.EXIT_HLT -> {
                return new VmExit(VmExit.Reason.GUEST_SHUTDOWN, "vCPU " + vcpu.id() + " halted");
            }
            case KvmRun.EXIT_SHUTDOWN -> {
                // A triple fault is how a Kiln guest reboots (reboot=t, also after a panic), so
                // it is the same reset QEMU reports for it, not a power-off.
                return new VmExit(VmExit.Reason.GUEST_RESET, "vCPU " + vcpu.id() + " triple-faulted (reboot=t or a crash)");
            }
            case KvmRun.EXIT_SYSTEM_EVENT -> {
                return new VmExit(VmExit.Reason.GUEST_SHUTDOWN, "system event " + state.systemEventType());
            }
            case KvmRun.EXIT_FAIL_ENTRY -> {
                return new VmExit(VmExit.Reason.ERROR, "VM entry failed, hardware reason 0x" + Long.toHexString(state.failEntryReason()));
            }
            case KvmRun.EXIT_INTERNAL_ERROR -> {
                return new VmExit(VmExit.Reason.ERROR, "KVM internal error, suberror " + state.internalSuberror());
            }
            default -> {
                return new VmExit(VmExit.Reason.ERROR, "unhandled KVM exit " + state.exitReason());
            }
        }
    }

    /** Asks the thread to park and waits until it has. Returns false if the thread is gone. */
    boolean pause() {
        synchronized (lock) {
            pauseRequested = true;
            kickLocked();
            while (alive && !parked) {
                try {
                    lock.wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
                kickLocked(); // a signal can land before the thread enters KVM_RUN; immediate_exit covers it, re-kick is cheap
            }
            return alive;
        }
    }

    void resume() {
        synchronized (lock) {
            pauseRequested = false;
            lock.notifyAll();
        }
    }

    void stop() {
        synchronized (lock) {
            stopRequested = true;
            kickLocked();
            lock.notifyAll();
        }
    }

    void join() {
        Thread t = thread;
        if (t == null || t == Thread.currentThread()) {
            return;
        }
        while (t.isAlive()) {
            synchronized (lock) {
                kickLocked();
            }
            try {
                t.join(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Only signal a thread that is still inside our loop: pthread_kill on a dead thread is undefined. */
    private void kickLocked() {
        if (alive && pthread != 0) {
            vcpu.runState().setImmediateExit(true);
            VcpuKicker.kick(pthread);
        }
    }

    boolean started() {
        return thread != null;
    }
}
