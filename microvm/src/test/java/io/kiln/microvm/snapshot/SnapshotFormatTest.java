package io.kiln.microvm.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.microvm.devices.SerialState;
import io.kiln.microvm.devices.virtio.Virtio;
import io.kiln.microvm.devices.virtio.console.ConsoleDevice;
import io.kiln.microvm.devices.virtio.console.ConsoleState;
import io.kiln.microvm.devices.virtio.mmio.MmioState;
import io.kiln.microvm.devices.virtio.queue.QueueState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The vmstate file without a VM: what the virtio records carry, and which versions are read. */
class SnapshotFormatTest {
    private static VirtioDeviceState virtio(int slot, int type, int queues, int stage, boolean open) {
        List<QueueState> qs = new ArrayList<>();
        for (int q = 0; q < queues; q++) {
            qs.add(new QueueState(256, 256, true, 0x10000L * q, 0x10000L * q + 0x1000, 0x10000L * q + 0x2000, q, q + 1));
        }
        MmioState t = new MmioState(1, 0, Virtio.F_VERSION_1 | 2, 0, 0xf, 1, false, qs);
        return new VirtioDeviceState(slot, type, t, Virtio.F_VERSION_1 | 2, false, stage, open);
    }

    private static Snapshot snapshot(List<VirtioDeviceState> virtio) {
        byte[] b = {1, 2, 3};
        VcpuState v = new VcpuState(0, b, b, b, b, b, b, b, b, b, List.of(), List.of());
        return new Snapshot(1, 64L << 20, "/vmlinux", "console=ttyS0", List.of(v), new MachineState(b, b, b, b, b),
                new SerialState(0, 3, 0, 0, 1, 0, false, new byte[0]), virtio);
    }

    @Test
    void theConsolePortsProtocolStateSurvivesTheFile() throws Exception {
        List<VirtioDeviceState> virtio = List.of(
                virtio(0, Virtio.TYPE_CONSOLE, ConsoleDevice.TX + 1, ConsoleState.Stage.ANNOUNCED.code(), true),
                virtio(1, Virtio.TYPE_RNG, 1, 0, false));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SnapshotFormat.write(snapshot(virtio), out);
        byte[] bytes = out.toByteArray();
        assertEquals(2, ByteBuffer.wrap(bytes, SnapshotFormat.MAGIC.length, 4).getInt(), "format version");
        Snapshot back = SnapshotFormat.read(new ByteArrayInputStream(bytes));
        assertEquals(virtio, back.virtio());
    }

    @Test
    void aVersionOneFileIsRefusedWithAReason() {
        byte[] v1 = ByteBuffer.allocate(12).put(SnapshotFormat.MAGIC).putInt(1).array();
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class,
                () -> SnapshotFormat.read(new ByteArrayInputStream(v1)));
        assertTrue(e.getMessage().contains("version 1 is not supported"), e.getMessage());
    }
}
