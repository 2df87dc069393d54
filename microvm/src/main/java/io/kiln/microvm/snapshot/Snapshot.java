package io.kiln.microvm.snapshot;

import io.kiln.microvm.boot.HostCpu;
import io.kiln.microvm.devices.SerialState;
import java.util.List;

/**
 * The whole saved VM except guest RAM, which lives in its own file next to this one. {@code
 * hostCpu} is the CPU it was taken on and {@code tscKhz} the guest's TSC frequency there (0 if
 * KVM could not say).
 */
public record Snapshot(int vcpus, long memoryBytes, String kernel, String commandLine, HostCpu hostCpu, int tscKhz,
                       List<VcpuState> vcpuStates, MachineState machine, SerialState serial, List<VirtioDeviceState> virtio) {
    public static final String STATE_FILE = "vmstate";
    public static final String MEMORY_FILE = "memory";
}
