package io.kiln.microvm.vm;

import io.kiln.microvm.testing.KvmAssumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A create that fails half way (here: not a kernel) releases every fd it opened. */
class FailedCreateTest {

    @TempDir
    Path tmp;

    private static long openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    @Test
    void aFailedCreateLeavesNoFileDescriptorsBehind() throws Exception {
        KvmAssumptions.assumeKvm();
        Path bogus = Files.write(tmp.resolve("not-a-kernel"), new byte[4096]);
        MicroVmConfig config = MicroVmConfig.builder().memoryMib(16).kernel(bogus).commandLine("console=ttyS0")
                .functionChannel(true).rng(true).build();
        long before = openFds();
        for (int i = 0; i < 5; i++) {
            assertThrows(RuntimeException.class, () -> KvmMicroVm.create(config));
        }
        assertEquals(before, openFds(), "file descriptors leaked by failed creates");
    }
}
