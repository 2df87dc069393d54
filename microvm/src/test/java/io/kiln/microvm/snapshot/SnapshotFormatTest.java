package io.kiln.microvm.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kiln.microvm.boot.HostCpu;
import io.kiln.microvm.devices.SerialState;
import io.kiln.microvm.devices.virtio.Virtio;
import io.kiln.microvm.devices.virtio.console.ConsoleState;
import io.kiln.microvm.devices.virtio.mmio.MmioState;
import io.kiln.microvm.devices.virtio.queue.QueueState;
import io.kiln.microvm.kvm.CpuidEntry;
import io.kiln.microvm.kvm.MsrEntry;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every record of the vmstate file written and read back field for field (the console's
 * control-protocol state included), the HOST_CPU record byte for byte, and which versions are read.
 */
class SnapshotFormatTest {
    private static final HostCpu CPU = new HostCpu("AuthenticAMD", 0x19, 0x21, 2, "ab".repeat(32));

    private static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed + i * 7);
        }
        return b;
    }

    private static VcpuState vcpu(int id) {
        return new VcpuState(id, bytes(144, id + 1), bytes(312, id + 2), bytes(416, id + 3), bytes(4096, id + 4),
                bytes(392, id + 5), bytes(1024, id + 6), bytes(4, id + 7), bytes(64, id + 8), bytes(128, id + 9),
                List.of(new MsrEntry(0x10, 0x1234_5678_9abcL + id), new MsrEntry(0xc0000082, -1L), new MsrEntry(0x6e0, 0)),
                List.of(new CpuidEntry(0, 0, 0, 0x10, 0x68747541, 0x444d4163, 0x69746e65),
                        new CpuidEntry(0xb, 1, 1, 1, 2, 0x201, id)));
    }

    static Snapshot sample() {
        MmioState transport = new MmioState(1, 0, 0x1_0000_0003L, 1, 0xf, 1, false,
                List.of(new QueueState(256, 128, true, 0x1000, 0x2000, 0x3000, 5, 4),
                        new QueueState(256, 256, false, 0, 0, 0, 0, 0)));
        return new Snapshot(2, 512L << 20, "/guest/vmlinux", "console=ttyS0 reboot=t", CPU, 2_994_373,
                List.of(vcpu(0), vcpu(1)),
                new MachineState(bytes(520, 11), bytes(520, 12), bytes(520, 13), bytes(112, 14), bytes(48, 15)),
                new SerialState(1, 3, 8, 0x55, 1, 0, true, "pending".getBytes()),
                // A console whose guest has the channel port open (a clone's channel must be), and an rng.
                List.of(new VirtioDeviceState(0, Virtio.TYPE_CONSOLE, transport, 0x1_0000_0001L, false,
                                ConsoleState.Stage.ANNOUNCED.code(), true),
                        new VirtioDeviceState(1, Virtio.TYPE_RNG, new MmioState(0, 0, 0, 0, 0, 0, true, List.of()), 0,
                                true, 0, false)));
    }

    private static byte[] write(Snapshot s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SnapshotFormat.write(s, out);
        return out.toByteArray();
    }

    @Test
    void everyRecordReadsBackAsWritten() throws IOException {
        Snapshot s = sample();
        byte[] written = write(s);
        Snapshot r = SnapshotFormat.read(new ByteArrayInputStream(written));

        assertEquals(2, r.vcpus());
        assertEquals(512L << 20, r.memoryBytes());
        assertEquals("/guest/vmlinux", r.kernel());
        assertEquals("console=ttyS0 reboot=t", r.commandLine());
        assertEquals(CPU, r.hostCpu());
        assertEquals(2_994_373, r.tscKhz());
        for (int i = 0; i < 2; i++) {
            VcpuState a = s.vcpuStates().get(i);
            VcpuState b = r.vcpuStates().get(i);
            assertEquals(a.id(), b.id());
            for (int k = 0; k < 9; k++) {
                assertArrayEquals(blobs(a)[k], blobs(b)[k], "vCPU " + i + " blob " + k);
            }
            assertEquals(a.msrs(), b.msrs());
            assertEquals(a.cpuid(), b.cpuid());
        }
        MachineState m = r.machine();
        assertArrayEquals(s.machine().picMaster(), m.picMaster());
        assertArrayEquals(s.machine().picSlave(), m.picSlave());
        assertArrayEquals(s.machine().ioapic(), m.ioapic());
        assertArrayEquals(s.machine().pit(), m.pit());
        assertArrayEquals(s.machine().clock(), m.clock());
        SerialState ser = r.serial();
        assertEquals(List.of(1, 3, 8, 0x55, 1, 0), List.of(ser.ier(), ser.lcr(), ser.mcr(), ser.scr(), ser.dll(), ser.dlm()));
        assertTrue(ser.thrEmptyPending());
        assertArrayEquals("pending".getBytes(), ser.pendingInput());
        assertEquals(s.virtio(), r.virtio()); // records of scalars and lists: value equality
        assertArrayEquals(written, write(r), "written again, byte for byte");
    }

    @Test
    void theHostCpuRecordFollowsTheMachineConfig() throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(write(sample())));
        assertArrayEquals(SnapshotFormat.MAGIC, in.readNBytes(8));
        assertEquals(3, in.readInt(), "format version 3");
        assertEquals(SnapshotFormat.TAG_MACHINE_CONFIG, in.readUnsignedShort());
        in.skipNBytes(in.readInt());
        assertEquals(SnapshotFormat.TAG_HOST_CPU, in.readUnsignedShort());
        byte[] payload = in.readNBytes(in.readInt());
        ByteBuffer expected = ByteBuffer.allocate(4 + 12 + 12 + 4 + 64 + 4);
        expected.putInt(12).put("AuthenticAMD".getBytes()).putInt(0x19).putInt(0x21).putInt(2)
                .putInt(64).put("ab".repeat(32).getBytes()).putInt(2_994_373);
        assertArrayEquals(expected.array(), payload);
    }

    @Test
    void aSnapshotWithoutItsHostCpuIsIncomplete() throws IOException {
        byte[] full = write(sample());
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(full));
        in.skipNBytes(12);
        in.readUnsignedShort();
        int configLength = in.readInt();
        int hostStart = 12 + 6 + configLength;
        int hostLength = ByteBuffer.wrap(full, hostStart + 2, 4).getInt();
        ByteArrayOutputStream cut = new ByteArrayOutputStream();
        cut.write(full, 0, hostStart);
        cut.write(full, hostStart + 6 + hostLength, full.length - hostStart - 6 - hostLength);
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class,
                () -> SnapshotFormat.read(new ByteArrayInputStream(cut.toByteArray())));
        assertTrue(e.getMessage().contains("host CPU false"), e.getMessage());
    }

    @Test
    void earlierVersionsAreRejectedWithTheVersionNamed() {
        for (int version = 1; version <= 2; version++) {
            byte[] header = ByteBuffer.allocate(12).put(SnapshotFormat.MAGIC).putInt(version).array();
            SnapshotFormatException e = assertThrows(SnapshotFormatException.class,
                    () -> SnapshotFormat.read(new ByteArrayInputStream(header)));
            assertEquals("snapshot format version " + version + " is not supported: this build reads version 3 only",
                    e.getMessage());
        }
    }

    private static byte[][] blobs(VcpuState v) {
        return new byte[][] {v.regs(), v.sregs(), v.fpu(), v.xsave(), v.xcrs(), v.lapic(), v.mpState(), v.events(),
            v.debugRegs()};
    }
}
