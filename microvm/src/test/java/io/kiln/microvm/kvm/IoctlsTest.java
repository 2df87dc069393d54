package io.kiln.microvm.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Our ioctl numbers and struct sizes against the kernel's own header, compiled with gcc. */
class IoctlsTest {
    @TempDir
    Path tmp;

    @Test
    void numbersMatchLinuxKvmHeader() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/usr/include/linux/kvm.h")), "no /usr/include/linux/kvm.h");
        Map<String, Long> ours = new LinkedHashMap<>();
        for (java.lang.reflect.Field f : Ioctls.class.getFields()) {
            if (f.getName().startsWith("KVM_") && f.getType() == long.class) {
                ours.put(f.getName(), f.getLong(null));
            }
        }
        StringBuilder c = new StringBuilder("#include <stdio.h>\n#include <linux/kvm.h>\nint main(){\n");
        for (String name : ours.keySet()) {
            c.append("printf(\"").append(name).append(" %lu\\n\", (unsigned long)").append(name).append(");\n");
        }
        c.append("printf(\"SREGS %zu\\nFPU %zu\\nXCRS %zu\\nEVENTS %zu\\nPIT %zu\\nCLOCK %zu\\nIRQCHIP %zu\\n\", sizeof(struct kvm_sregs),"
                + " sizeof(struct kvm_fpu), sizeof(struct kvm_xcrs), sizeof(struct kvm_vcpu_events), sizeof(struct kvm_pit_state2),"
                + " sizeof(struct kvm_clock_data), sizeof(struct kvm_irqchip));\nreturn 0;}\n");
        Path src = Files.writeString(tmp.resolve("n.c"), c);
        Path exe = tmp.resolve("n");
        Process cc = new ProcessBuilder("gcc", "-o", exe.toString(), src.toString()).inheritIO().start();
        Assumptions.assumeTrue(cc.waitFor(60, TimeUnit.SECONDS) && cc.exitValue() == 0, "gcc could not build the check");
        Process run = new ProcessBuilder(exe.toString()).start();
        Map<String, Long> theirs = new LinkedHashMap<>();
        for (String line : new String(run.getInputStream().readAllBytes()).split("\n")) {
            String[] kv = line.split(" ");
            theirs.put(kv[0], Long.parseLong(kv[1]));
        }
        for (var e : ours.entrySet()) {
            assertEquals(theirs.get(e.getKey()), e.getValue(), e.getKey());
        }
        assertEquals(Ioctls.SREGS_SIZE, theirs.get("SREGS"));
        assertEquals(Ioctls.FPU_SIZE, theirs.get("FPU"));
        assertEquals(Ioctls.XCRS_SIZE, theirs.get("XCRS"));
        assertEquals(Ioctls.VCPU_EVENTS_SIZE, theirs.get("EVENTS"));
        assertEquals(Ioctls.PIT_STATE2_SIZE, theirs.get("PIT"));
        assertEquals(Ioctls.CLOCK_DATA_SIZE, theirs.get("CLOCK"));
        assertEquals(Ioctls.IRQCHIP_SIZE, theirs.get("IRQCHIP"));
    }

    @Test
    void segmentDecodesFlatGdtEntries() {
        Segment code = Segment.fromGdtEntry(8, 0x00af9b000000ffffL);
        assertEquals(0xffffffff, code.limit());
        assertEquals(11, code.type());
        assertEquals(true, code.l());
        assertEquals(false, code.db());
        Segment data = Segment.fromGdtEntry(16, 0x00cf93000000ffffL);
        assertEquals(3, data.type());
        assertEquals(true, data.db());
    }
}
