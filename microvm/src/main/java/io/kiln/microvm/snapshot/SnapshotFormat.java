package io.kiln.microvm.snapshot;

import io.kiln.microvm.boot.HostCpu;
import io.kiln.microvm.devices.SerialState;
import io.kiln.microvm.devices.virtio.mmio.MmioState;
import io.kiln.microvm.devices.virtio.queue.QueueState;
import io.kiln.microvm.kvm.CpuidEntry;
import io.kiln.microvm.kvm.MsrEntry;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code vmstate} file, version 3. Big-endian (Java's DataOutput), a header then records:
 *
 * <pre>
 * header : magic "KILNSNAP" (8 bytes) | version u32 (= 3)
 * record : tag u16 | length u32 | payload (length bytes)
 *   1 MACHINE_CONFIG : vcpus u32 | memoryBytes u64 | kernel str | cmdline str
 *   6 HOST_CPU       : vendor str | family u32 | model u32 | stepping u32 | KVM CPUID sha256 str | tsc kHz u32
 *   2 VCPU           : id u32 | regs, sregs, fpu, xsave, xcrs, lapic, mp_state, events, debugregs (each blob)
 *                      | msr count u32, {index u32, value u64}* | cpuid count u32, {fn, idx, flags, eax, ebx, ecx, edx: u32}*
 *   3 IRQCHIP_PIT_CLOCK : pic master, pic slave, ioapic, pit2, clock (each blob)
 *   4 SERIAL         : ier, lcr, mcr, scr, dll, dlm u8 | thrEmptyPending u8 | pending input blob
 *   5 VIRTIO_MMIO    : slot u32 | device type u32 | deviceFeaturesSel, driverFeaturesSel u32 | ackedFeatures u64
 *                      | queueSel u32 | status u32 | interruptStatus u32 | needsReset u8 | queue count u32
 *                      | {maxSize u16, size u16, ready u8, desc u64, avail u64, used u64, nextAvail u16, nextUsed u16}*
 *                      | device ackedFeatures u64 | device needsReset u8
 *                      | device port stage u8 | device port guest open u8   (the console's control
 *                        protocol, so a clone's function channel is open; 0 for other devices)
 *   0xFFFF END       : empty
 * blob : length u32 | bytes;  str : length u32 | UTF-8 bytes
 * </pre>
 *
 * Version 3 added HOST_CPU (the CPU and TSC rate the snapshot was taken on), saves every MSR
 * KVM lists and can read, where version 1 saved 13 fixed ones, and the console's port stage
 * and guest-open bytes (MULTIPORT). Version 2 never shipped: it was each of those changes alone.
 *
 * Readers reject another magic, any version but {@link #VERSION}, unknown tags and truncation,
 * with a message that says which. Guest RAM is the separate raw {@code memory} file.
 */
public final class SnapshotFormat {
    public static final byte[] MAGIC = "KILNSNAP".getBytes(StandardCharsets.US_ASCII);
    public static final int VERSION = 3;
    static final int TAG_MACHINE_CONFIG = 1;
    static final int TAG_VCPU = 2;
    static final int TAG_IRQCHIP_PIT_CLOCK = 3;
    static final int TAG_SERIAL = 4;
    static final int TAG_VIRTIO_MMIO = 5;
    static final int TAG_HOST_CPU = 6;
    static final int TAG_END = 0xffff;
    private static final int MAX_BLOB = 1 << 20;

    private SnapshotFormat() {
    }

    public static void write(Snapshot s, OutputStream os) throws IOException {
        DataOutputStream out = new DataOutputStream(os);
        out.write(MAGIC);
        out.writeInt(VERSION);
        record(out, TAG_MACHINE_CONFIG, r -> {
            r.writeInt(s.vcpus());
            r.writeLong(s.memoryBytes());
            str(r, s.kernel());
            str(r, s.commandLine());
        });
        HostCpu cpu = s.hostCpu();
        record(out, TAG_HOST_CPU, r -> {
            str(r, cpu.vendor());
            r.writeInt(cpu.family());
            r.writeInt(cpu.model());
            r.writeInt(cpu.stepping());
            str(r, cpu.cpuidSha256());
            r.writeInt(s.tscKhz());
        });
        for (VcpuState v : s.vcpuStates()) {
            record(out, TAG_VCPU, r -> {
                r.writeInt(v.id());
                for (byte[] b : new byte[][] {v.regs(), v.sregs(), v.fpu(), v.xsave(), v.xcrs(), v.lapic(), v.mpState(),
                        v.events(), v.debugRegs()}) {
                    blob(r, b);
                }
                r.writeInt(v.msrs().size());
                for (MsrEntry m : v.msrs()) {
                    r.writeInt(m.index());
                    r.writeLong(m.data());
                }
                r.writeInt(v.cpuid().size());
                for (CpuidEntry c : v.cpuid()) {
                    for (int x : new int[] {c.function(), c.index(), c.flags(), c.eax(), c.ebx(), c.ecx(), c.edx()}) {
                        r.writeInt(x);
                    }
                }
            });
        }
        MachineState m = s.machine();
        record(out, TAG_IRQCHIP_PIT_CLOCK, r -> {
            blob(r, m.picMaster());
            blob(r, m.picSlave());
            blob(r, m.ioapic());
            blob(r, m.pit());
            blob(r, m.clock());
        });
        SerialState ser = s.serial();
        record(out, TAG_SERIAL, r -> {
            for (int x : new int[] {ser.ier(), ser.lcr(), ser.mcr(), ser.scr(), ser.dll(), ser.dlm()}) {
                r.writeByte(x);
            }
            r.writeBoolean(ser.thrEmptyPending());
            blob(r, ser.pendingInput());
        });
        for (VirtioDeviceState d : s.virtio()) {
            record(out, TAG_VIRTIO_MMIO, r -> {
                MmioState t = d.transport();
                r.writeInt(d.slot());
                r.writeInt(d.deviceType());
                r.writeInt(t.deviceFeaturesSel());
                r.writeInt(t.driverFeaturesSel());
                r.writeLong(t.ackedFeatures());
                r.writeInt(t.queueSel());
                r.writeInt(t.status());
                r.writeInt(t.interruptStatus());
                r.writeBoolean(t.needsReset());
                r.writeInt(t.queues().size());
                for (QueueState q : t.queues()) {
                    r.writeShort(q.maxSize());
                    r.writeShort(q.size());
                    r.writeBoolean(q.ready());
                    r.writeLong(q.descTable());
                    r.writeLong(q.availRing());
                    r.writeLong(q.usedRing());
                    r.writeShort(q.nextAvail());
                    r.writeShort(q.nextUsed());
                }
                r.writeLong(d.deviceAckedFeatures());
                r.writeBoolean(d.deviceNeedsReset());
                r.writeByte(d.devicePortStage());
                r.writeBoolean(d.devicePortGuestOpen());
            });
        }
        out.writeShort(TAG_END);
        out.writeInt(0);
        out.flush();
    }

    public static Snapshot read(InputStream is) throws IOException {
        DataInputStream in = new DataInputStream(is);
        try {
            byte[] magic = in.readNBytes(MAGIC.length);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new SnapshotFormatException("not a Kiln snapshot (bad magic)");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new SnapshotFormatException("snapshot format version " + version
                        + " is not supported: this build reads version " + VERSION + " only");
            }
            int vcpus = -1;
            long memoryBytes = 0;
            String kernel = null;
            String cmdline = null;
            HostCpu hostCpu = null;
            int tscKhz = 0;
            List<VcpuState> vcpuStates = new ArrayList<>();
            MachineState machine = null;
            SerialState serial = null;
            List<VirtioDeviceState> virtio = new ArrayList<>();
            while (true) {
                int tag = in.readUnsignedShort();
                int length = in.readInt();
                if (tag == TAG_END) {
                    break;
                }
                if (length < 0 || length > 64 << 20) {
                    throw new SnapshotFormatException("record " + tag + " has an impossible length " + length);
                }
                DataInputStream r = new DataInputStream(new java.io.ByteArrayInputStream(in.readNBytes(length)));
                switch (tag) {
                    case TAG_MACHINE_CONFIG -> {
                        vcpus = r.readInt();
                        memoryBytes = r.readLong();
                        kernel = str(r);
                        cmdline = str(r);
                    }
                    case TAG_HOST_CPU -> {
                        hostCpu = new HostCpu(str(r), r.readInt(), r.readInt(), r.readInt(), str(r));
                        tscKhz = r.readInt();
                    }
                    case TAG_VCPU -> vcpuStates.add(readVcpu(r));
                    case TAG_IRQCHIP_PIT_CLOCK -> machine = new MachineState(blob(r), blob(r), blob(r), blob(r), blob(r));
                    case TAG_SERIAL -> serial = new SerialState(r.readUnsignedByte(), r.readUnsignedByte(), r.readUnsignedByte(),
                            r.readUnsignedByte(), r.readUnsignedByte(), r.readUnsignedByte(), r.readBoolean(), blob(r));
                    case TAG_VIRTIO_MMIO -> virtio.add(readVirtio(r));
                    default -> throw new SnapshotFormatException("unknown snapshot record tag " + tag + " in version " + version);
                }
            }
            if (vcpus < 1 || machine == null || serial == null || hostCpu == null || vcpuStates.size() != vcpus) {
                throw new SnapshotFormatException("snapshot is incomplete: " + vcpuStates.size() + " of " + vcpus
                        + " vCPUs, machine state " + (machine != null) + ", serial " + (serial != null)
                        + ", host CPU " + (hostCpu != null));
            }
            return new Snapshot(vcpus, memoryBytes, kernel, cmdline, hostCpu, tscKhz, vcpuStates, machine, serial, virtio);
        } catch (EOFException e) {
            throw new SnapshotFormatException("snapshot is truncated");
        }
    }

    private static VcpuState readVcpu(DataInputStream r) throws IOException {
        int id = r.readInt();
        byte[][] b = new byte[9][];
        for (int i = 0; i < b.length; i++) {
            b[i] = blob(r);
        }
        int nm = count(r);
        List<MsrEntry> msrs = new ArrayList<>();
        for (int i = 0; i < nm; i++) {
            msrs.add(new MsrEntry(r.readInt(), r.readLong()));
        }
        int nc = count(r);
        List<CpuidEntry> cpuid = new ArrayList<>();
        for (int i = 0; i < nc; i++) {
            cpuid.add(new CpuidEntry(r.readInt(), r.readInt(), r.readInt(), r.readInt(), r.readInt(), r.readInt(), r.readInt()));
        }
        return new VcpuState(id, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], msrs, cpuid);
    }

    private static VirtioDeviceState readVirtio(DataInputStream r) throws IOException {
        int slot = r.readInt();
        int type = r.readInt();
        int dfs = r.readInt();
        int drfs = r.readInt();
        long acked = r.readLong();
        int qsel = r.readInt();
        int status = r.readInt();
        int isr = r.readInt();
        boolean needsReset = r.readBoolean();
        int nq = count(r);
        List<QueueState> qs = new ArrayList<>();
        for (int i = 0; i < nq; i++) {
            qs.add(new QueueState(r.readUnsignedShort(), r.readUnsignedShort(), r.readBoolean(), r.readLong(), r.readLong(),
                    r.readLong(), r.readUnsignedShort(), r.readUnsignedShort()));
        }
        MmioState t = new MmioState(dfs, drfs, acked, qsel, status, isr, needsReset, qs);
        return new VirtioDeviceState(slot, type, t, r.readLong(), r.readBoolean(), r.readUnsignedByte(), r.readBoolean());
    }

    private interface RecordBody {
        void write(DataOutputStream r) throws IOException;
    }

    private static void record(DataOutputStream out, int tag, RecordBody body) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        DataOutputStream r = new DataOutputStream(buf);
        body.write(r);
        r.flush();
        out.writeShort(tag);
        out.writeInt(buf.size());
        buf.writeTo(out);
    }

    private static void blob(DataOutputStream r, byte[] b) throws IOException {
        r.writeInt(b.length);
        r.write(b);
    }

    private static byte[] blob(DataInputStream r) throws IOException {
        int n = r.readInt();
        if (n < 0 || n > MAX_BLOB) {
            throw new SnapshotFormatException("blob length " + n + " is out of range");
        }
        return r.readNBytes(n);
    }

    private static int count(DataInputStream r) throws IOException {
        int n = r.readInt();
        if (n < 0 || n > 4096) {
            throw new SnapshotFormatException("count " + n + " is out of range");
        }
        return n;
    }

    private static void str(DataOutputStream r, String s) throws IOException {
        blob(r, (s == null ? "" : s).getBytes(StandardCharsets.UTF_8));
    }

    private static String str(DataInputStream r) throws IOException {
        return new String(blob(r), StandardCharsets.UTF_8);
    }
}
