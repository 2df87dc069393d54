package io.kiln.microvm.devices.virtio.console;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.microvm.testing.ConsoleCapture;
import io.kiln.microvm.testing.GuestBuild;
import io.kiln.microvm.testing.KvmAssumptions;
import io.kiln.microvm.vm.KvmMicroVm;
import io.kiln.microvm.vm.MicroVmConfig;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Test 2: a guest virtio-console driver (MULTIPORT negotiated, the control protocol that adds,
 * opens and names port 1, the port's queues, ioeventfd notifications) echoes length-prefixed frames of 1 B to 1 MiB byte-exact. Under kvm_pvm the
 * guest cannot take external interrupts, so it polls the used rings with IF=0 and proves irqfd
 * delivery by finding the device's vector pending in its LAPIC IRR.
 */
class ConsoleEchoGuestTest {
    private static final int[] SIZES = {1, 2, 3, 100, 4095, 4096, 4097, 16384, 16385, 65536, 100_000, 1 << 20};

    @Test
    void framesFromOneByteToOneMebibyteComeBackByteExact() throws Exception {
        KvmAssumptions.assumeKvm();
        Path kernel = GuestBuild.build("console_guest");
        ConsoleCapture console = new ConsoleCapture();
        MicroVmConfig config = MicroVmConfig.builder().memoryMib(64).kernel(kernel).commandLine("console=ttyS0")
                .functionChannel(true).rng(true).consoleLog(console).build();
        try (KvmMicroVm vm = KvmMicroVm.create(config)) {
            vm.start();
            console.await("READY", Duration.ofSeconds(30));
            var lines = console.lines();
            assertTrue(lines.contains("PORT-ADD 1"), console.text());
            assertTrue(lines.contains("HOST-OPEN 1"), console.text());
            assertTrue(lines.contains("PORT-NAME " + ConsoleDevice.PORT_NAME), console.text());
            DataOutputStream out = new DataOutputStream(vm.toGuest());
            DataInputStream in = new DataInputStream(vm.fromGuest());
            Random random = new Random(7);
            for (int size : SIZES) {
                byte[] frame = new byte[size];
                random.nextBytes(frame);
                // Write from another thread: a 1 MiB frame is more than the guest has posted at once.
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    try {
                        out.writeInt(size);
                        out.write(frame);
                        out.flush();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                assertEquals(size, in.readInt(), "length prefix of the " + size + "-byte frame");
                byte[] back = new byte[size];
                in.readFully(back);
                writer.get(30, TimeUnit.SECONDS);
                assertArrayEquals(frame, back, "frame of " + size + " bytes");
            }
            console.await("IRQ-SEEN", Duration.ofSeconds(30));
            assertFalse(vm.exit().isDone(), console.text());
            ConsoleDevice device = vm.devices().console();
            assertEquals(0, device.metrics().invalidChains.get());
            assertEquals(new ConsoleState(device.state().ackedFeatures(), false, ConsoleState.Stage.ANNOUNCED, true),
                    device.state());
            long total = 0;
            for (int s : SIZES) {
                total += s + 4;
            }
            assertEquals(total, device.metrics().rxBytes.get());
            assertEquals(total, device.metrics().txBytes.get());
        }
    }
}
