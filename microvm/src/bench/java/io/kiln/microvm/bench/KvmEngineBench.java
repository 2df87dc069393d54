package io.kiln.microvm.bench;

import io.kiln.microvm.vm.KvmMicroVm;
import io.kiln.microvm.vm.KvmSnapshots;
import io.kiln.microvm.vm.MicroVmConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/** The Java KVM engine's side: boot to the first UART byte, and snapshot restore to the next one. */
final class KvmEngineBench {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final Path guest;

    KvmEngineBench(Path guest) {
        this.guest = guest;
    }

    /**
     * Nanoseconds from building the {@link MicroVmConfig} through {@link KvmMicroVm#create} and
     * {@code start()} to the guest's first byte reaching the console sink. Destroying the VM
     * afterwards is not timed.
     */
    long boot(int memoryMib, boolean virtioDevices) throws IOException, InterruptedException, TimeoutException {
        ConsoleProbe console = new ConsoleProbe();
        long t0 = System.nanoTime();
        MicroVmConfig config = MicroVmConfig.builder().memoryMib(memoryMib).kernel(guest).commandLine("console=ttyS0")
                .functionChannel(virtioDevices).rng(virtioDevices).consoleLog(console).build();
        try (KvmMicroVm vm = KvmMicroVm.create(config)) {
            vm.start();
            long t1 = console.awaitFirst(TIMEOUT);
            check(console);
            return t1 - t0;
        }
    }

    /**
     * Boots the guest with {@code memoryMib}, lets it loop a while, fills its RAM above
     * {@link MicroVmBench#FILL_FROM} with non-zero bytes (as a function's heap would be), and
     * snapshots it into {@code directory}.
     */
    void snapshot(int memoryMib, Path directory) throws IOException, InterruptedException, TimeoutException {
        ConsoleProbe console = new ConsoleProbe();
        MicroVmConfig config = MicroVmConfig.builder().memoryMib(memoryMib).kernel(guest).commandLine("console=ttyS0")
                .functionChannel(false).rng(false).consoleLog(console).build();
        try (KvmMicroVm vm = KvmMicroVm.create(config)) {
            vm.start();
            console.awaitCount(200, TIMEOUT);
            vm.pause();
            vm.memory().fill(MicroVmBench.FILL_FROM, ((long) memoryMib << 20) - MicroVmBench.FILL_FROM, MicroVmBench.FILL_BYTE);
            vm.snapshot(directory);
        }
    }

    /** A restore's two parts, in nanoseconds from the {@link KvmSnapshots#restore} call. */
    record Restore(long restored, long running) {
    }

    /**
     * From calling {@link KvmSnapshots#restore} (read the state file, map the memory file
     * MAP_PRIVATE, rebuild VM, vCPUs and devices) through {@code resume()} to the restored guest's
     * next byte at the console sink.
     */
    Restore restore(Path directory) throws IOException, InterruptedException, TimeoutException {
        ConsoleProbe console = new ConsoleProbe();
        long t0 = System.nanoTime();
        try (KvmMicroVm vm = KvmSnapshots.restore(directory, console)) {
            long restored = System.nanoTime();
            vm.resume();
            long t1 = console.awaitFirst(TIMEOUT);
            return new Restore(restored - t0, t1 - t0);
        }
    }

    private static void check(ConsoleProbe console) {
        if (console.firstByte() != 'K') {
            throw new IllegalStateException("the guest's first byte was " + console.firstByte() + ", expected 'K'");
        }
    }
}
