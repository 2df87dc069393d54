package io.kiln.microvm.qemu;

import io.kiln.agent.testing.Fixtures;
import io.kiln.microvm.testing.AgentFrames;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.LoadFrame;
import io.kiln.protocol.RestoredFrame;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole path on the QEMU engine, as the invoker will drive it: the base snapshot of the
 * booted runtime → restore → LOAD a real user jar → INITIALIZED → function snapshot →
 * restore two clones → RESTORED with fresh entropy → INVOKE each → RESULT byte-exact, and the
 * two clones' SecureRandom, created before the snapshot, and their kernels' /dev/urandom draw
 * different bytes.
 */
class QemuEndToEndTest {

    @TempDir
    static Path dir;

    private static Path functionSnapshot;

    @BeforeAll
    static void deployAFunction() throws IOException {
        Path base = BaseSnapshot.get();
        functionSnapshot = dir.resolve("clone-probe");
        try (QemuGuest guest = QemuGuest.restore(base, Accelerator.TCG, true, line -> { })) {
            guest.start();
            restored(guest, 7);
            AgentFrames.send(guest, new LoadFrame(
                    "{\"handler\":\"com.example.CloneProbe\",\"function\":\"clone-probe\",\"version\":\"1\"}",
                    Fixtures.functions()));
            InitializedFrame initialized = AgentFrames.expect(guest, InitializedFrame.class);
            assertTrue(initialized.metadata().contains("\"style\":\"kiln\""), initialized::metadata);
            guest.snapshot(functionSnapshot);
        }
    }

    private static RestoredFrame restored(QemuGuest guest, int seed) throws IOException {
        byte[] entropy = new byte[64];
        new Random(seed).nextBytes(entropy);
        return AgentFrames.restored(guest, entropy);
    }

    private static byte[] invoke(QemuGuest guest, long callId, byte[] input) throws IOException {
        return AgentFrames.invoke(guest, callId, "{\"timeoutMs\":60000}", input).body();
    }

    private static byte[] flipped(byte[] in) {
        byte[] out = new byte[in.length];
        for (int i = 0; i < in.length; i++) {
            out[i] = (byte) ~in[i];
        }
        return out;
    }

    @Test
    void twoClonesOfOneFunctionSnapshotAnswerExactlyAndDrawDifferentRandomBytes() throws IOException {
        // Every byte value, including the ones a tty would interpret (^C, ^D, ^S, CR, LF, DEL),
        // then a larger random body.
        byte[] everyByte = new byte[512];
        for (int i = 0; i < everyByte.length; i++) {
            everyByte[i] = (byte) i;
        }
        byte[] large = new byte[300_000];
        new Random(1).nextBytes(large);

        try (QemuGuest a = QemuGuest.restore(functionSnapshot, Accelerator.TCG, false, line -> { });
             QemuGuest b = QemuGuest.restore(functionSnapshot, Accelerator.TCG, false, line -> { })) {
            a.start();
            b.start();
            restored(a, 1);
            restored(b, 2);

            assertArrayEquals(flipped(everyByte), invoke(a, 1, everyByte));
            assertArrayEquals(flipped(everyByte), invoke(b, 1, everyByte));
            assertArrayEquals(flipped(large), invoke(a, 2, large));
            assertArrayEquals(flipped(large), invoke(b, 2, large));

            byte[] randomA = invoke(a, 3, new byte[0]);
            byte[] randomB = invoke(b, 3, new byte[0]);
            assertEquals(16, randomA.length);
            assertEquals(16, randomB.length);
            assertFalse(Arrays.equals(randomA, randomB),
                    "two clones of one snapshot drew the same SecureRandom bytes: " + Arrays.toString(randomA));

            byte[] urandom = "urandom".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            byte[] kernelA = invoke(a, 4, urandom);
            byte[] kernelB = invoke(b, 4, urandom);
            assertEquals(16, kernelA.length);
            assertFalse(Arrays.equals(kernelA, kernelB),
                    "two clones of one snapshot read the same /dev/urandom bytes: " + Arrays.toString(kernelA));
        }
    }
}
