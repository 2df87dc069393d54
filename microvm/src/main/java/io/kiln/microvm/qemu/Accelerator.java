package io.kiln.microvm.qemu;

/** How QEMU runs guest code. */
public enum Accelerator {
    /** Hardware virtualisation through /dev/kvm: near-native speed. */
    KVM("kvm", "host"),
    /** QEMU's binary translator: runs anywhere, about 10x slower than native. */
    TCG("tcg", "max");

    private final String qemuName;
    private final String cpuModel;

    Accelerator(String qemuName, String cpuModel) {
        this.qemuName = qemuName;
        this.cpuModel = cpuModel;
    }

    String qemuName() {
        return qemuName;
    }

    /** {@code host} passes the real CPU through under KVM; {@code max} is every feature TCG emulates. */
    String cpuModel() {
        return cpuModel;
    }
}
