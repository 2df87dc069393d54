package io.kiln.microvm.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KvmProbeTest {
    @TempDir
    Path tmp;

    @Test
    void absentDeviceSaysSo() {
        KvmProbeResult r = new KvmProbe(tmp.resolve("no-kvm"), tmp).probe();
        assertEquals(KvmKind.ABSENT, r.kind());
        assertTrue(r.reason().contains("does not exist"), r.reason());
    }

    @Test
    void moduleDecidesTheKind() throws Exception {
        Path dev = Files.createFile(tmp.resolve("kvm"));
        Path sys = Files.createDirectories(tmp.resolve("sys"));
        assertEquals(KvmKind.UNUSABLE, new KvmProbe(dev, sys).probe().kind());
        Files.createDirectories(sys.resolve("kvm_pvm"));
        assertEquals(KvmKind.SOFTWARE, new KvmProbe(dev, sys).probe().kind());
        Files.createDirectories(sys.resolve("kvm_intel"));
        KvmProbeResult hw = new KvmProbe(dev, sys).probe();
        assertEquals(KvmKind.HARDWARE, hw.kind());
        assertTrue(hw.reason().contains("kvm_intel"), hw.reason());
    }

    @Test
    void unopenableDeviceIsNoPermissionOrUnusable() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("a-directory"));
        KvmProbeResult r = new KvmProbe(dir, tmp).probe();
        assertTrue(!r.usable(), r.toString());
    }

    @Test
    void hostProbeIsPrinted() {
        KvmProbeResult r = KvmProbe.probeHost();
        System.out.println("KVM probe on this host: " + r);
        assertTrue(!r.reason().isBlank());
    }
}
