package io.kiln.invoker.engine;

import io.kiln.microvm.boot.HostCpu;
import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.qemu.Accelerator;
import io.kiln.microvm.probe.KvmKind;
import io.kiln.microvm.probe.KvmProbeResult;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EngineSelectorTest {

    private static final KvmProbeResult HARDWARE = new KvmProbeResult(KvmKind.HARDWARE, "kvm_intel", "kvm_intel");
    private static final KvmProbeResult AMD = new KvmProbeResult(KvmKind.HARDWARE, "kvm_amd", "kvm_amd");
    private static final KvmProbeResult SOFTWARE = new KvmProbeResult(KvmKind.SOFTWARE, "kvm_pvm", "kvm_pvm");
    private static final KvmProbeResult ABSENT = new KvmProbeResult(KvmKind.ABSENT, "no /dev/kvm");

    @TempDir
    Path dir;

    private Supplier<GuestImage> image;
    private Path agentJar;

    @BeforeEach
    void files() throws IOException {
        Path img = Files.createDirectories(dir.resolve("image"));
        Files.write(img.resolve("vmlinux"), new byte[1]);
        Files.write(img.resolve("initramfs.cpio"), new byte[1]);
        image = () -> GuestImage.at(img);
        agentJar = Files.write(dir.resolve("kiln-agent.jar"), new byte[1]);
    }

    private EngineChoice choose(String requested, KvmProbeResult probe) {
        return EngineSelector.choose(requested, probe, image, agentJar, dir.resolve("work"));
    }

    @Test
    void theProbePicksTheJavaEngineOnKvmAmdQemuKvmOnKvmIntelSayingWhyAndQemuTcgElsewhere() {
        EngineChoice amd = choose("auto", AMD);
        assertEquals("kvm", amd.engine().name());
        assertEquals("auto: kvm_amd; the Java engine is proven on kvm_amd (nested lab: Linux boot, snapshots, and "
                + "functions end to end)", amd.reason());
        EngineChoice intel = choose("auto", HARDWARE);
        assertEquals("qemu-kvm", intel.engine().name());
        assertEquals("auto: kvm_intel; the Java engine is untested on kvm_intel (the lab emulates AMD SVM only; "
                + "lab/run-kvm-tests.sh tests it on this host), so QEMU with KVM runs functions (--engine kvm "
                + "chooses the Java engine)", intel.reason());
        assertEquals("qemu-tcg", choose("auto", SOFTWARE).engine().name());
        assertEquals("qemu-tcg", choose(null, ABSENT).engine().name());
        assertTrue(choose("auto", ABSENT).reason().startsWith("auto: no /dev/kvm; without hardware KVM"));
    }

    @Test
    void configurationOverridesTheProbe() {
        assertEquals("qemu-kvm", choose("qemu", HARDWARE).engine().name());
        assertEquals("qemu-tcg", choose("qemu", SOFTWARE).engine().name());
        assertEquals("qemu-tcg", choose(" QEMU-TCG ", HARDWARE).engine().name());
        EngineChoice kvm = choose("kvm", SOFTWARE);
        assertEquals("kvm", kvm.engine().name());
        assertEquals("configured: kvm (kvm_pvm; the Java engine is proven on kvm_amd (nested lab: Linux boot, "
                + "snapshots, and functions end to end))", kvm.reason());
        assertEquals("configured: kvm (kvm_intel; the Java engine is untested on kvm_intel (the lab emulates AMD "
                + "SVM only; lab/run-kvm-tests.sh tests it on this host))", choose("kvm", HARDWARE).reason());
        EngineChoice process = choose("process", HARDWARE);
        assertEquals("process", process.engine().name());
        assertFalse(process.engine().isolated());
        assertFalse(process.engine().snapshots());
        assertTrue(process.reason().contains("NOT isolated"));
    }

    @Test
    void impossibleOrUnknownChoicesAreRefusedWithTheReason() {
        assertEquals("engine kvm was requested but /dev/kvm is not usable: no /dev/kvm",
                assertThrows(IllegalArgumentException.class, () -> choose("kvm", ABSENT)).getMessage());
        assertEquals("engine qemu-kvm was requested but the host has no hardware KVM: kvm_pvm",
                assertThrows(IllegalArgumentException.class, () -> choose("qemu-kvm", SOFTWARE)).getMessage());
        assertEquals("unknown engine 'firecracker'; choose one of auto, kvm, qemu, qemu-kvm, qemu-tcg, process",
                assertThrows(IllegalArgumentException.class, () -> choose("firecracker", HARDWARE)).getMessage());
    }

    @Test
    void snapshotsAreKeyedByEngineAndImageAndOnKvmByTheHostCpu() {
        assertEquals("qemu-tcg-image", choose("qemu-tcg", SOFTWARE).engine().snapshotKey());
        assertEquals("kvm-image-" + HostCpu.currentFingerprint(), choose("kvm", HARDWARE).engine().snapshotKey());
        assertEquals("kvm-image-0123456789ab", new KvmEngine(image.get(), () -> "0123456789ab").snapshotKey());
        assertEquals("qemu-kvm-image-0123456789ab",
                new QemuEngine(image.get(), Accelerator.KVM, () -> "0123456789ab", Optional.empty()).snapshotKey());
        assertEquals("qemu-tcg-image", new QemuEngine(image.get(), Accelerator.TCG, () -> "0123456789ab", Optional.empty()).snapshotKey(),
                "TCG's CPU is emulated, the same on every host");
    }
}
