package io.kiln.microvm.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.microvm.testing.ConsoleCapture;
import io.kiln.microvm.testing.GuestBuild;
import io.kiln.microvm.testing.KvmAssumptions;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A guest that resets while the host pauses it: the vCPU thread is held at the start of its
 * guest-stop path until the pausing thread is waiting for that vCPU to park, then let go. Before
 * the fix, pause() held the VM's monitor while waiting and the stopping vCPU thread blocked on
 * the same monitor, so neither ever finished. The 30 s bounds only turn a deadlock into a
 * failure (checked: with the old locking the first round fails there); the order of events is
 * fixed by the latches and the pausing thread's state, not by timing.
 */
class PauseWhileResettingTest {
    private static final int ROUNDS = 5;

    @Test
    void pausingAResettingGuestFinishesAndLeavesItStopped() throws Exception {
        KvmAssumptions.assumeKvm();
        Path kernel = GuestBuild.build("triple_fault_guest");
        for (int round = 0; round < ROUNDS; round++) {
            MicroVmConfig config = MicroVmConfig.builder().memoryMib(16).kernel(kernel).commandLine("reboot=t")
                    .functionChannel(false).rng(false).consoleLog(new ConsoleCapture()).build();
            // Not try-with-resources: after a deadlock destroy() would wait for the stuck pause too;
            // the test must fail, not hang (both threads are daemons, the VM is left to the JVM's end).
            KvmMicroVm vm = KvmMicroVm.create(config);
            CountDownLatch stopping = new CountDownLatch(1);
            CountDownLatch letGo = new CountDownLatch(1);
            vm.beforeGuestStop = () -> {
                stopping.countDown();
                awaitQuietly(letGo);
            };
            vm.start();
            assertTrue(stopping.await(30, TimeUnit.SECONDS), "the guest never reset");

            Thread pauser = new Thread(vm::pause, "pauser");
            pauser.setDaemon(true);
            pauser.start();
            while (pauser.isAlive() && pauser.getState() != Thread.State.TIMED_WAITING) {
                Thread.onSpinWait(); // until pause() waits for the held vCPU to park
            }
            letGo.countDown();
            pauser.join(TimeUnit.SECONDS.toMillis(30));
            assertFalse(pauser.isAlive(), "round " + round + ": pause() deadlocked against the guest's reset");

            assertEquals(VmExit.Reason.GUEST_RESET, vm.exit().get(30, TimeUnit.SECONDS).reason());
            assertEquals(VmState.STOPPED, vm.state());
            vm.pause();
            assertEquals(VmState.STOPPED, vm.state(), "pausing a stopped VM leaves it stopped");
            vm.destroy();
            assertEquals(VmState.DESTROYED, vm.state());
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
