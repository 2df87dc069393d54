package io.kiln.microvm.group;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.kiln.microvm.testing.GuestBuild;
import io.kiln.microvm.testing.KvmAssumptions;
import io.kiln.microvm.vm.MicroVm;
import io.kiln.microvm.vm.VmExit;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One host process per group, started ahead of need, replaced when it dies, ended with its group. */
class VmHostsTest {
    @TempDir
    Path work;

    @Test
    void oneProcessPerGroupRestartedWhenDeadAndStoppedWithItsGroup() throws Exception {
        KvmAssumptions.assumeKvm();
        Path kernel = GuestBuild.build("console_guest");
        VmHosts.Group a = VmHosts.Group.unjailed("fn-a");
        VmHosts.Group b = VmHosts.Group.unjailed("fn-b-with-a-name-longer-than-the-socket-allows-for");
        VmHost hostB;
        try (VmHosts groups = new VmHosts(work, null, true)) {
            groups.prestart(a);
            VmHost hostA = groups.host(a);
            assertSame(hostA, groups.host(a), "one host process per group");
            hostB = groups.host(b);
            assertNotEquals(hostA.pid(), hostB.pid());
            assertTrue(hostB.toString().contains(b.name()));

            MicroVm vm = hostA.boot(32, kernel, null, "console=ttyS0", true, false, l -> { });
            vm.start();
            ProcessHandle.of(hostA.pid()).orElseThrow().destroyForcibly();
            assertEquals(VmExit.Reason.ERROR, vm.exit().get(60, TimeUnit.SECONDS).reason());
            hostA.ended().get(60, TimeUnit.SECONDS);
            VmHost again = groups.host(a);
            assertNotEquals(hostA.pid(), again.pid(), "a dead host process is replaced at the next need");
            MicroVm second = again.boot(32, kernel, null, "console=ttyS0", true, false, l -> { });
            second.start();
            second.destroy();

            groups.stop(a.name());
            again.ended().get(60, TimeUnit.SECONDS);
            assertNull(groups.running(a.name()));
            assertSame(hostB, groups.running(b.name()), "stopping one group leaves the others");
        }
        hostB.ended().get(60, TimeUnit.SECONDS);
    }
}
