package io.kiln.microvm.vm;

import io.kiln.microvm.devices.Bus;
import io.kiln.microvm.devices.EventFdInterrupt;
import io.kiln.microvm.devices.EventLoop;
import io.kiln.microvm.devices.I8042;
import io.kiln.microvm.devices.Serial8250;
import io.kiln.microvm.devices.virtio.VirtioDevice;
import io.kiln.microvm.devices.virtio.VirtioInterrupt;
import io.kiln.microvm.devices.virtio.console.ConsoleDevice;
import io.kiln.microvm.devices.virtio.mmio.MmioTransport;
import io.kiln.microvm.devices.virtio.rng.RngDevice;
import io.kiln.microvm.kvm.EventFd;
import io.kiln.microvm.kvm.VmFd;
import io.kiln.microvm.memory.GuestMemory;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The devices of one VM and the buses they sit on: COM1 and the i8042 on the port bus, virtio
 * devices on the MMIO bus from {@link #MMIO_BASE}, one page and one GSI each (Firecracker's
 * layout). Queue notifications arrive through ioeventfds and interrupts leave through irqfds, so
 * neither costs a trip through a vCPU thread; the device thread serves both.
 */
public final class VmDevices implements AutoCloseable {
    public static final long MMIO_BASE = 0xd000_0000L;
    public static final int FIRST_VIRTIO_GSI = 5;
    /** How long teardown waits for a device handler to return (they never block; this bounds a VMM bug). */
    static final java.time.Duration LOOP_STOP_TIMEOUT = java.time.Duration.ofSeconds(10);

    private final Bus pio = new Bus();
    private final Bus mmio = new Bus();
    private final EventLoop loop = new EventLoop();
    private final Serial8250 serial;
    private final List<MmioTransport> transports = new ArrayList<>();
    private final List<EventFd> eventFds = new ArrayList<>();
    private final StringBuilder cmdline = new StringBuilder();
    private ConsoleDevice console;
    private RngDevice rng;
    private volatile Runnable onReset = () -> { };
    private boolean paused;

    private VmDevices(Serial8250 serial) {
        this.serial = serial;
    }

    static VmDevices create(VmFd vm, GuestMemory memory, MicroVmConfig config) {
        EventFdInterrupt serialIrq = irq(vm, Serial8250.COM1_IRQ);
        VmDevices d = new VmDevices(new Serial8250(config.consoleLog(), serialIrq));
        d.eventFds.add(serialIrq.eventFd());
        d.pio.register(Serial8250.COM1_PORT, Serial8250.PORT_COUNT, d.serial);
        d.pio.register(I8042.DATA_PORT, I8042.PORT_RANGE, new I8042(() -> d.onReset.run()));
        if (config.functionChannel()) {
            d.console = new ConsoleDevice();
            d.addVirtio(vm, memory, d.console);
            ConsoleDevice c = d.console;
            c.setWakeup(q -> d.loop.post(() -> c.processQueue(q)));
        }
        if (config.rng()) {
            d.rng = new RngDevice();
            d.addVirtio(vm, memory, d.rng);
        }
        return d;
    }

    private static EventFdInterrupt irq(VmFd vm, int gsi) {
        EventFd fd = new EventFd(true);
        vm.registerIrqfd(fd, gsi);
        return new EventFdInterrupt(fd, gsi);
    }

    private void addVirtio(VmFd vm, GuestMemory memory, VirtioDevice device) {
        int index = transports.size();
        long base = MMIO_BASE + (long) MmioTransport.SIZE * index;
        int gsi = FIRST_VIRTIO_GSI + index;
        EventFdInterrupt irq = irq(vm, gsi);
        eventFds.add(irq.eventFd());
        MmioTransport t = new MmioTransport(device, memory, new VirtioInterrupt(irq),
                q -> loop.post(() -> device.processQueue(q)));
        for (int q = 0; q < device.queueMaxSizes().length; q++) {
            EventFd notify = new EventFd(true);
            vm.registerIoeventfd(notify, base + MmioTransport.NOTIFY_OFFSET, 4, (long) q);
            eventFds.add(notify);
            int queue = q;
            loop.add(notify, () -> device.processQueue(queue));
        }
        mmio.register(base, MmioTransport.SIZE, t);
        transports.add(t);
        cmdline.append(String.format(" virtio_mmio.device=4K@0x%x:%d", base, gsi));
    }

    void onReset(Runnable r) {
        this.onReset = r;
    }

    Bus pio() {
        return pio;
    }

    Bus mmio() {
        return mmio;
    }

    public Serial8250 serial() {
        return serial;
    }

    public List<MmioTransport> transports() {
        return transports;
    }

    public ConsoleDevice console() {
        return console;
    }

    public RngDevice rng() {
        return rng;
    }

    /** Kernel command-line entries that tell the guest where the virtio-mmio devices are. */
    String commandLineSuffix() {
        return cmdline.toString();
    }

    void start() {
        loop.start();
    }

    synchronized void pause() {
        if (!paused) {
            loop.pause();
            paused = true;
        }
    }

    synchronized void resume() {
        if (paused) {
            paused = false;
            loop.resume();
        }
    }

    /** After a restore: serve whatever the guest queued before the snapshot (its notifications are gone). */
    void kickAllQueues() {
        for (MmioTransport t : transports) {
            for (int q = 0; q < t.queueCount(); q++) {
                int queue = q;
                loop.post(() -> t.device().processQueue(queue));
            }
        }
    }

    /**
     * The guest stopped: serve what it queued before it stopped (its last frames, often the
     * error that explains the stop), then end the function channel's host side. Posted on the
     * device thread, after anything already posted, so nothing the guest sent is dropped.
     */
    void guestStopped() {
        kickAllQueues();
        if (console != null) {
            loop.post(console::guestStopped);
        }
    }

    InputStream fromGuest() {
        if (console == null) {
            throw new IllegalStateException("this VM has no function channel");
        }
        return console.fromGuest();
    }

    OutputStream toGuest() {
        if (console == null) {
            throw new IllegalStateException("this VM has no function channel");
        }
        return console.toGuest();
    }

    /**
     * Stops the device thread, waiting up to {@link #LOOP_STOP_TIMEOUT} for a running handler.
     * Returns false if it is still running one: guest memory must then stay mapped (and the
     * eventfds open), see {@link EventLoop#stop}.
     */
    boolean stop() {
        resume();
        boolean stopped = loop.stop(LOOP_STOP_TIMEOUT);
        if (console != null) {
            console.closeHostSide();
        }
        if (stopped) {
            eventFds.forEach(EventFd::close);
        }
        return stopped;
    }

    @Override
    public void close() {
        stop();
    }
}
