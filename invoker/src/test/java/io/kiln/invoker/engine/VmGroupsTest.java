package io.kiln.invoker.engine;

import io.kiln.invoker.store.FunctionConfig;
import io.kiln.microvm.jail.VmGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class VmGroupsTest {

    @TempDir
    Path dir;

    private static FunctionConfig config(int memoryMib, int maxConcurrency, int minInstances, int maxInstances) {
        return new FunctionConfig("com.example.Fn", memoryMib, Duration.ofSeconds(10), Map.of(), maxConcurrency,
                minInstances, maxInstances, Duration.ofMinutes(1), false);
    }

    @Test
    void eachGroupGetsItsOwnUidOnceAndKeepsItAcrossRestarts() throws Exception {
        VmGroups groups = new VmGroups(dir, 160, 8);
        assertEquals(900_000, groups.uid("a"));
        assertEquals(900_001, groups.uid(VmGroup.BASE));
        assertEquals(900_000, groups.uid("a"));
        assertEquals("a\n", Files.readString(dir.resolve("900000")));

        VmGroups reopened = new VmGroups(dir, 160, 8);
        assertEquals(900_000, reopened.uid("a"));
        assertEquals(900_001, reopened.uid(VmGroup.BASE));
        assertEquals(900_002, reopened.uid("b"));
    }

    @Test
    void aUidIsNeverReusedEvenIfItsFunctionWentAndAnotherProcessTookTheNextOne() throws Exception {
        VmGroups groups = new VmGroups(dir, 160, 8);
        assertEquals(900_000, groups.uid("a"));
        // Another process (sharing the directory) took 900001 since this one listed it.
        Files.writeString(dir.resolve("900001"), "other\n");
        assertEquals(900_002, groups.uid("b"));
        // A restart sees both; a deleted function's file stays, so its uid is never handed out again.
        VmGroups reopened = new VmGroups(dir, 160, 8);
        assertEquals(900_001, reopened.uid("other"));
        assertEquals(900_003, reopened.uid("c"));
    }

    @Test
    void limitsFollowTheFunctionsSettingsAndTheHost() throws Exception {
        VmGroups groups = new VmGroups(dir, 160, 2);
        // 4 calls in flight, 4 instances: 4 VMs + 1 for a deploy's snapshot; CPU capped at the host's 2 cores.
        VmGroup g = groups.function("f", config(256, 4, 0, 10));
        assertEquals(new VmGroup("f", 900_000, 900_000, 5L * (256 + 160) << 20, 2000), g);
        // maxInstances caps the VMs; a warm minimum above the concurrency raises them.
        assertEquals(2, VmGroups.vmSlots(config(512, 8, 0, 1)));
        assertEquals(4, VmGroups.vmSlots(config(512, 1, 3, 5)));
        assertEquals(new VmGroup(VmGroup.BASE, 900_001, 900_001, 2 * (512L + 160) << 20, 1000), groups.base(512));
    }
}
