package io.kiln.agent;

import com.fasterxml.jackson.databind.JsonNode;
import io.kiln.agent.testing.AgentProcess;
import io.kiln.agent.testing.FakeRestoreHelper;
import io.kiln.agent.testing.Fixtures;
import io.kiln.protocol.InitializedFrame;
import io.kiln.protocol.RestoredFrame;
import io.kiln.protocol.ResultFrame;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import static io.kiln.agent.testing.AgentSession.expect;
import static io.kiln.agent.testing.AgentSession.meta;
import static io.kiln.agent.testing.AgentSession.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RESTORED: reseeding, the clock and the kernel pool (guest only), hooks. */
class RestoreTest {

    /** Guest-mode agents here run the restore command unless a test serves the helper. */
    static final String NO_SERVED_HELPER = "-Dkiln.agent.restore.serve=";

    static final List<String> ALL_SEEDS = List.of("NativePRNG", "NativePRNGBlocking",
            "NativePRNGNonBlocking", "SHA1PRNG.seeder", "DRBG.seeder");

    /** What {@code com.example.Rng} draws from its fixed seed, call after call. */
    private static String[] unreseeded(int calls) throws Exception {
        SecureRandom r = SecureRandom.getInstance("SHA1PRNG");
        r.setSeed(42L);
        String[] out = new String[calls];
        for (int i = 0; i < calls; i++) {
            byte[] b = new byte[8];
            r.nextBytes(b);
            out[i] = HexFormat.of().formatHex(b);
        }
        return out;
    }

    @Test
    void clonesOfOneStateDivergeAfterRestored() throws Exception {
        String[] same = unreseeded(2);
        try (AgentProcess a = AgentProcess.start(); AgentProcess b = AgentProcess.start()) {
            for (AgentProcess p : List.of(a, b)) {
                p.ready();
                expect(p.load(Fixtures.functions(), "com.example.Rng"), InitializedFrame.class, 0);
                // Identical state, as every clone of one snapshot has it.
                assertEquals(same[0], text(expect(p.invoke(1, ""), ResultFrame.class, 1)));
            }
            a.send(Restores.frame(1767225600000L, 32, (byte) 1));
            b.send(Restores.frame(1767225600000L, 32, (byte) 2));
            for (AgentProcess p : List.of(a, b)) {
                JsonNode ack = meta(p.reply(RestoredFrame.class));
                assertEquals(ALL_SEEDS.toString(), strings(ack.get("reseeded")).toString());
                assertEquals(0, ack.get("skipped").size());
                assertEquals(false, ack.get("kernelEntropy").asBoolean()); // host mode
                assertEquals(false, ack.get("clockSet").asBoolean());
                assertEquals(1, ack.get("hooks").asInt());
            }
            String fromA = text(expect(a.invoke(2, ""), ResultFrame.class, 2));
            String fromB = text(expect(b.invoke(2, ""), ResultFrame.class, 2));
            assertNotEquals(fromA, fromB);
            assertNotEquals(same[1], fromA);
            assertNotEquals(same[1], fromB);
        }
    }

    @Test
    void guestModeRunsTheRestoreCommandWithTheEntropyAndTheClock() throws Exception {
        Path dir = Files.createDirectories(Fixtures.work().resolve("guest"));
        Path args = dir.resolve("restore-args");
        Path stdin = dir.resolve("restore-stdin");
        Files.deleteIfExists(args);
        Files.deleteIfExists(stdin);
        // Stands in for the guest image's kiln-restore: records what it was given.
        Path command = dir.resolve("fake-kiln-restore");
        Files.writeString(command, "#!/bin/sh\necho \"$@\" > " + args + "\ncat > " + stdin + "\n");
        Files.setPosixFilePermissions(command, PosixFilePermissions.fromString("rwxr-xr-x"));

        try (AgentProcess a = AgentProcess.start(List.of("-Dkiln.agent.restore=" + command, NO_SERVED_HELPER), "--guest")) {
            assertEquals("guest", meta(a.ready()).get("mode").asText());
            expect(a.load(Fixtures.functions(), "com.example.Rng"), InitializedFrame.class, 0);
            long hostClock = 1767225599800L;
            a.send(Restores.frame(hostClock, 32, (byte) 7));
            JsonNode ack = meta(a.reply(RestoredFrame.class));
            assertEquals(ALL_SEEDS.toString(), strings(ack.get("reseeded")).toString());
            assertEquals(true, ack.get("kernelEntropy").asBoolean(), ack.toString());
            assertEquals(true, ack.get("clockSet").asBoolean(), ack.toString());
            assertEquals("exec", ack.get("kernelVia").asText(), ack.toString());
            // The clock to set is the host's, plus the time the frame spent in the agent.
            long target = Long.parseLong(Files.readString(args).strip());
            assertTrue(target >= hostClock && target < hostClock + 5_000, "clock argument " + target);
            byte[] expected = new byte[32];
            Arrays.fill(expected, (byte) 7);
            assertArrayEquals(expected, Files.readAllBytes(stdin));
            // The serial console got one human line.
            String console = a.stderr();
            assertTrue(console.startsWith("kiln-agent: READY protocol=1 java="
                    + System.getProperty("java.version") + " in "), console);
            assertTrue(console.endsWith(" ms\n"), console);
        }
    }

    @Test
    void guestModeHandsTheRestoreToTheServedHelper() throws Exception {
        Path dir = Fixtures.work().resolve("served");
        try (FakeRestoreHelper helper = FakeRestoreHelper.in(dir);
             AgentProcess a = AgentProcess.start(List.of("-Dkiln.agent.restore=/bin/false",
                     "-Dkiln.agent.restore.serve=" + dir), "--guest")) {
            a.ready();
            helper.answer("4b 52 01 00 00 00 00 01 00 00"); // request 1: done
            long hostClock = 1767225599800L;
            a.send(Restores.frame(hostClock, 32, (byte) 7));
            JsonNode ack = meta(a.reply(RestoredFrame.class));
            assertEquals("served", ack.get("kernelVia").asText(), ack.toString());
            assertEquals(true, ack.get("kernelEntropy").asBoolean(), ack.toString());
            assertEquals(true, ack.get("clockSet").asBoolean(), ack.toString());

            byte[] sent = helper.request(18 + 32);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(sent);
            assertEquals("4b52010100000001", HexFormat.of().formatHex(sent, 0, 8)); // KR, v1, set clock, id 1
            long clock = b.getLong(8);
            assertTrue(clock >= hostClock && clock < hostClock + 5_000, "clock " + clock);
            assertEquals(32, b.getShort(16));
            byte[] expected = new byte[32];
            Arrays.fill(expected, (byte) 7);
            assertArrayEquals(expected, Arrays.copyOfRange(sent, 18, 50));
        }
    }

    @Test
    void aHungRestoreCommandIsCutOffAtItsDeadline() throws Exception {
        Path dir = Files.createDirectories(Fixtures.work().resolve("guest"));
        Path command = dir.resolve("hung-kiln-restore");
        // Sleeps with its output still open: reading that output would wait the full 60 s.
        Files.writeString(command, "#!/bin/sh\nexec sleep 60\n");
        Files.setPosixFilePermissions(command, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (AgentProcess a = AgentProcess.start(List.of("-Dkiln.agent.restore=" + command, NO_SERVED_HELPER), "--guest")) {
            a.ready();
            long start = System.nanoTime();
            a.send(Restores.frame(1767225599800L, 32, (byte) 7));
            JsonNode ack = meta(a.reply(RestoredFrame.class));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(command + " did not finish in 5 s", ack.get("kernelError").asText());
            assertTrue(millis < 15_000, "the restore took " + millis + " ms");
        }
    }

    @Test
    void aFailingRestoreCommandIsReportedNotFatal() throws Exception {
        try (AgentProcess a = AgentProcess.start(List.of("-Dkiln.agent.restore=/bin/false", NO_SERVED_HELPER), "--guest")) {
            a.ready();
            a.send(Restores.frame(1767225599800L, 32, (byte) 7));
            JsonNode ack = meta(a.reply(RestoredFrame.class));
            assertEquals(false, ack.get("kernelEntropy").asBoolean());
            assertEquals(false, ack.get("clockSet").asBoolean());
            assertEquals("/bin/false exited with 1: ", ack.get("kernelError").asText());
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new java.util.ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /**
     * The agent must not change which generator {@code new SecureRandom()} gives user code:
     * NativePRNG draws through the mix generator the agent reseeds after every restore; a
     * DRBG made before a snapshot would hand every clone the same bytes. (It once did: the
     * reseeder's reflection initialised NativePRNG before the SUN provider.)
     */
    @Test
    void userCodeGetsTheNativeGeneratorTheAgentReseeds() throws Exception {
        try (AgentProcess p = AgentProcess.start()) {
            p.ready();
            expect(p.load(Fixtures.functions(), "com.example.DefaultRandom"), InitializedFrame.class, 0);
            assertEquals("NativePRNG", text(expect(p.invoke(1, ""), ResultFrame.class, 1)));
        }
    }
}
