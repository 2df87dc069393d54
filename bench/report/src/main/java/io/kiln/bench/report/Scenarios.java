package io.kiln.bench.report;

import java.util.List;

/** The scenarios bench/run-all.sh knows, in the report's order, with what each one measures. */
final class Scenarios {

    record Scenario(String name, String title, String measures) {
    }

    static final List<Scenario> ALL = List.of(
            new Scenario("vmm", "The VMM alone: Java KVM engine against QEMU, tiny guest",
                    "A 4.7 KB test guest on the host's /dev/kvm: from creating a VM to its first serial byte, and "
                            + "from a snapshot to the guest running again at 128 MiB and 1 GiB of guest memory. The "
                            + "Java engine (`kvm`) and `qemu-system-x86_64 -M microvm` (`qemu`, restored as Kiln's QEMU "
                            + "engine does it) alternate in one run. No Linux, no agent: this is the VMMs' own cost."),
            new Scenario("path", "The full path on the host's engine",
                    "The real guest (our kernel, the jlink'd JRE, the agent) and the fixtures' echo function through the "
                            + "real invoker: boot to READY, base and function snapshot, cold calls (restore from the "
                            + "function snapshot to the first RESULT, as the caller sees it), warm calls, and warm "
                            + "throughput at 1, 2, 8 and 32 callers, on the engine this host can run."),
            new Scenario("path-lab", "The full path on real KVM, in the nested lab",
                    "The same measurements as `path`, on real `kvm_amd` inside the nested lab (a QEMU TCG guest with "
                            + "SVM): the Java engine, QEMU-KVM and plain agent processes, one after the other in one "
                            + "lab run. Everything in the lab is emulated: read the ratios between engines, not the times."),
            new Scenario("gateway", "A warm call through the gateway, phase by phase",
                    "An HTTP call of the hello example through the gateway, split by its Server-Timing header into "
                            + "the gateway's own time, the invoker's and the VM's, against a bare Vert.x handler "
                            + "called by the same client in the same run."),
            new Scenario("density", "Idle warm instances in a memory budget",
                    "Instances of one function are started until the invoker's memory budget refuses more; each idle "
                            + "instance's private memory is read from the host (smaps of its VMM process), not guessed."),
            new Scenario("queue", "The durable queue: embedded SQLite against PostgreSQL",
                    "Async calls of a no-op function through the gateway and the durable queue, on both stores one "
                            + "after the other: enqueue to start latency at a light load, and accepted calls per second "
                            + "with concurrent clients."));

    private Scenarios() {
    }

    static Scenario named(String name) {
        return ALL.stream().filter(s -> s.name().equals(name)).findFirst()
                .orElse(new Scenario(name, name, "A scenario this report has no description of."));
    }
}
