package io.kiln.invoker.engine;

import io.kiln.microvm.image.GuestImage;
import io.kiln.microvm.jail.Jailer;
import io.kiln.microvm.probe.KvmProbeResult;
import io.kiln.microvm.qemu.Accelerator;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Picks the engine: from the host probe unless configuration names one. The probe never
 * picks the process engine; it is for tests and development and must be asked for.
 */
public final class EngineSelector {

    /** The accepted values of the engine setting. */
    public static final String CHOICES = "auto, kvm, qemu, qemu-kvm, qemu-tcg, process";

    /**
     * What is proven about the Java engine, said wherever it is chosen or passed over: on
     * kvm_amd, in the nested lab, by lab/run-kvm-tests.sh (which runs the same on a host with
     * hardware KVM); nothing on kvm_intel, since the lab's TCG emulates AMD's SVM, not VMX.
     */
    static final String PROVEN_ON_AMD = "the Java engine is proven on kvm_amd (nested lab: Linux boot, snapshots, "
            + "and functions end to end)";
    static final String UNTESTED_ON_INTEL = "the Java engine is untested on kvm_intel (the lab emulates AMD SVM "
            + "only; lab/run-kvm-tests.sh tests it on this host)";

    private EngineSelector() {
    }

    /**
     * @param requested {@code auto} (or null) to follow the probe, else one of {@link #CHOICES}
     * @param image     the guest image, looked up only if a VM engine is chosen
     * @param agentJar  the agent jar, used only by the process engine
     * @param workRoot  scratch space for the process engine's agents and the Java engine's VMM host processes
     */
    public static EngineChoice choose(String requested, KvmProbeResult probe, Supplier<GuestImage> image,
                                      Path agentJar, Path workRoot) {
        return choose(requested, probe, image, agentJar, workRoot, Optional.empty());
    }

    /** {@link #choose(String, KvmProbeResult, Supplier, Path, Path)}, QEMU engines jailing their VMs with {@code jailer}. */
    public static EngineChoice choose(String requested, KvmProbeResult probe, Supplier<GuestImage> image,
                                      Path agentJar, Path workRoot, Optional<Jailer> jailer) {
        String r = requested == null ? "auto" : requested.strip().toLowerCase(Locale.ROOT);
        return switch (r) {
            // Nothing unproven is chosen silently: the Java engine serves functions on kvm_amd (the
            // nested lab runs the invoker's end-to-end tests and an example on it), and nobody has
            // run it on kvm_intel, where auto takes QEMU with KVM and says why.
            case "auto" -> {
                if (!probe.hardware()) {
                    yield new EngineChoice(new QemuEngine(image.get(), Accelerator.TCG, jailer), "auto: " + probe.reason()
                            + "; without hardware KVM the guest runs under QEMU's TCG emulation (about 10x slower)",
                            probe);
                }
                yield probe.module().equals("kvm_amd")
                        ? new EngineChoice(KvmEngine.create(image.get(), workRoot, jailer), "auto: " + probe.reason() + "; "
                                + PROVEN_ON_AMD, probe)
                        : new EngineChoice(new QemuEngine(image.get(), Accelerator.KVM, jailer), "auto: " + probe.reason()
                                + "; " + UNTESTED_ON_INTEL + ", so QEMU with KVM runs functions (--engine kvm chooses"
                                + " the Java engine)", probe);
            }
            case "kvm" -> {
                if (!probe.usable()) {
                    throw new IllegalArgumentException("engine kvm was requested but /dev/kvm is not usable: "
                            + probe.reason());
                }
                yield new EngineChoice(KvmEngine.create(image.get(), workRoot, jailer), "configured: kvm (" + probe.reason() + "; "
                        + (probe.module().equals("kvm_intel") ? UNTESTED_ON_INTEL : PROVEN_ON_AMD) + ")", probe);
            }
            case "qemu" -> new EngineChoice(new QemuEngine(image.get(), probe.hardware() ? Accelerator.KVM
                    : Accelerator.TCG, jailer), "configured: qemu, " + (probe.hardware() ? "KVM-accelerated" : "TCG")
                    + " (" + probe.reason() + ")", probe);
            case "qemu-kvm" -> {
                if (!probe.hardware()) {
                    throw new IllegalArgumentException("engine qemu-kvm was requested but the host has no hardware "
                            + "KVM: " + probe.reason());
                }
                yield new EngineChoice(new QemuEngine(image.get(), Accelerator.KVM, jailer), "configured: qemu-kvm", probe);
            }
            case "qemu-tcg" -> new EngineChoice(new QemuEngine(image.get(), Accelerator.TCG, jailer),
                    "configured: qemu-tcg", probe);
            case "process" -> new EngineChoice(new ProcessEngine(agentJar, workRoot),
                    "configured: process (functions run as host processes, NOT isolated; for tests and development)",
                    probe);
            default -> throw new IllegalArgumentException("unknown engine '" + requested + "'; choose one of "
                    + CHOICES);
        };
    }
}
