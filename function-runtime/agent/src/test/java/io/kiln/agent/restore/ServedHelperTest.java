package io.kiln.agent.restore;

import io.kiln.agent.testing.FakeRestoreHelper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent's side of the served {@code kiln-restore}: the request and reply bytes, and what
 * happens when the helper is absent, silent, or answers garbage. The test stands in for the
 * helper on real FIFOs; nothing here touches the host's kernel pool or clock.
 */
class ServedHelperTest {

    private static final HexFormat HEX = HexFormat.ofDelimiter(" ");

    @TempDir
    Path dir;

    @Test
    void aRequestIsMagicVersionFlagsIdClockLengthEntropyBigEndian() {
        byte[] entropy = new byte[16];
        for (int i = 0; i < 16; i++) {
            entropy[i] = (byte) i;
        }
        assertEquals("4b 52 01 01 01 02 03 04 00 00 01 9b 76 da a8 00 00 10"
                        + " 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f",
                HEX.formatHex(ServedHelper.encode(0x01020304, 1767225600000L, entropy)));
        byte[] aa = new byte[16];
        Arrays.fill(aa, (byte) 0xaa);
        // "Leave the clock": flag bit 0 clear, the time field zero.
        assertEquals("4b 52 01 00 00 00 00 05 00 00 00 00 00 00 00 00 00 10"
                        + " aa aa aa aa aa aa aa aa aa aa aa aa aa aa aa aa",
                HEX.formatHex(ServedHelper.encode(5, null, aa)));
        assertEquals(18 + 4096, ServedHelper.encode(1, null, new byte[4096]).length);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServedHelper.encode(1, null, new byte[15]));
        assertEquals("15 bytes of entropy, want 16 to 4096", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ServedHelper.encode(1, null, new byte[4097]));
    }

    @Test
    void aReplyIsStatusIdAndOneLine() {
        byte[] header = HEX.parseHex("4b 52 01 43 00 00 00 07 00 05");
        ServedHelper.Reply r = ServedHelper.parse(header, "oops\n".getBytes());
        assertEquals(new ServedHelper.Reply(67, 7, "oops"), r);
        assertEquals(new ServedHelper.Reply(0, -2, ""),
                ServedHelper.parse(HEX.parseHex("4b 52 01 00 ff ff ff fe 00 00"), new byte[0]));
    }

    @Test
    void noFifosMeansNoServedHelper() throws IOException {
        assertNull(ServedHelper.open(null));
        assertNull(ServedHelper.open(dir.resolve("absent")));
        // Plain files where the FIFOs should be are not a helper either.
        Files.writeString(dir.resolve("request"), "");
        Files.writeString(dir.resolve("reply"), "");
        assertNull(ServedHelper.open(dir));
    }

    @Test
    void aRequestAndItsReplyGoThroughTheFifos() throws Exception {
        try (FakeRestoreHelper helper = FakeRestoreHelper.in(dir); ServedHelper served = ServedHelper.open(dir)) {
            byte[] entropy = new byte[64];
            Arrays.fill(entropy, (byte) 3);
            helper.answer("4b 52 01 00 00 00 00 01 00 00");
            ServedHelper.Reply r = served.call(entropy, 1767225600000L, 5_000);
            assertEquals(new ServedHelper.Reply(0, 1, ""), r);
            assertArrayEquals(ServedHelper.encode(1, 1767225600000L, entropy), helper.request(18 + 64));

            // The helper's own failure, reported with its words; the id counts up.
            helper.answer("4b 52 01 45 00 00 00 02 00 1e", "kiln-restore: clock_settime: x");
            assertEquals(new ServedHelper.Reply(69, 2, "kiln-restore: clock_settime: x"),
                    served.call(entropy, null, 5_000));
            assertEquals(HEX.formatHex(ServedHelper.encode(2, null, entropy)), HEX.formatHex(helper.request(18 + 64)));
        }
    }

    @Test
    void aLateReplyToAnEarlierRequestIsPassedOver() throws Exception {
        try (FakeRestoreHelper helper = FakeRestoreHelper.in(dir); ServedHelper served = ServedHelper.open(dir)) {
            assertThrows(ServedHelper.HelperException.class, () -> served.call(new byte[16], null, 50));
            helper.answer("4b 52 01 00 00 00 00 01 00 00"); // request 1's, too late
            helper.answer("4b 52 01 00 00 00 00 02 00 02", "ok");
            assertEquals(new ServedHelper.Reply(0, 2, "ok"), served.call(new byte[16], null, 5_000));
        }
    }

    @Test
    void aSilentHelperIsAClearErrorAtTheDeadline() throws Exception {
        try (FakeRestoreHelper silent = FakeRestoreHelper.in(dir); ServedHelper served = ServedHelper.open(dir)) {
            long start = System.nanoTime();
            ServedHelper.HelperException e = assertThrows(ServedHelper.HelperException.class,
                    () -> served.call(new byte[16], 1L, 300));
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertEquals("the served kiln-restore in " + dir + " did not answer within 300 ms (0 bytes of a reply)",
                    e.getMessage());
            assertTrue(ms >= 300 && ms < 2_000, "gave up after " + ms + " ms");
        }
    }

    @Test
    void halfAReplyIsAClearErrorAtTheDeadline() throws Exception {
        try (FakeRestoreHelper helper = FakeRestoreHelper.in(dir); ServedHelper served = ServedHelper.open(dir)) {
            helper.answer("4b 52 01 00 00 00 00 01 00 08", "abc");
            ServedHelper.HelperException e = assertThrows(ServedHelper.HelperException.class,
                    () -> served.call(new byte[16], null, 200));
            assertEquals("the served kiln-restore in " + dir + " did not answer within 200 ms (13 bytes of a reply)",
                    e.getMessage());
        }
    }

    @Test
    void garbageIsAClearErrorAtOnce() throws Exception {
        try (FakeRestoreHelper helper = FakeRestoreHelper.in(dir); ServedHelper served = ServedHelper.open(dir)) {
            helper.answer("48 54 54 50 2f 31 2e 31 20 32"); // "HTTP/1.1 2"
            long start = System.nanoTime();
            ServedHelper.HelperException e = assertThrows(ServedHelper.HelperException.class,
                    () -> served.call(new byte[16], null, 10_000));
            assertEquals("the served kiln-restore in " + dir + " answered garbage: 48 54 54 50 2f 31 2e 31 20 32",
                    e.getMessage());
            assertTrue((System.nanoTime() - start) / 1_000_000 < 5_000);
            // A version this agent does not speak, or an over-long message, is garbage too.
            helper.answer("4b 52 02 00 00 00 00 02 00 00");
            assertTrue(assertThrows(ServedHelper.HelperException.class, () -> served.call(new byte[16], null, 10_000))
                    .getMessage().endsWith("answered garbage: 4b 52 02 00 00 00 00 02 00 00"));
            helper.answer("4b 52 01 00 00 00 00 03 00 f1"); // a 241-byte message
            assertTrue(assertThrows(ServedHelper.HelperException.class, () -> served.call(new byte[16], null, 10_000))
                    .getMessage().endsWith("answered garbage: 4b 52 01 00 00 00 00 03 00 f1"));
        }
    }

    @Test
    void withoutAServedHelperTheCommandRuns() throws Exception {
        Path args = dir.resolve("args");
        Path command = recorder(args);
        GuestSystem guest = GuestSystem.open(command.toString(), dir.resolve("absent"));
        assertFalse(guest.served());
        GuestSystem.Result r = guest.restore(new byte[16], 1767225600000L, System.nanoTime(), 10_000);
        assertEquals(new GuestSystem.Result(true, "exec", null, null), r);
        long clock = Long.parseLong(Files.readString(args).strip());
        assertTrue(clock >= 1767225600000L && clock < 1767225605000L, "clock argument " + clock);
    }

    @Test
    void aServedHelperThatFailsIsGivenUpForTheCommandWithinTheDeadline() throws Exception {
        FakeRestoreHelper silent = FakeRestoreHelper.in(dir);
        Path args = dir.resolve("args");
        GuestSystem guest = GuestSystem.open(recorder(args).toString(), dir);
        assertTrue(guest.served());
        long start = System.nanoTime();
        // The served helper gets half the restore's deadline; the command runs in the rest.
        GuestSystem.Result r = guest.restore(new byte[16], null, System.nanoTime(), 400);
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals(new GuestSystem.Result(true, "exec",  null,
                "the served kiln-restore in " + dir + " did not answer within 200 ms (0 bytes of a reply)"), r);
        assertEquals("-", Files.readString(args).strip());
        assertTrue(ms >= 200 && ms < 5_000, "took " + ms + " ms");
        assertFalse(guest.served(), "a helper that failed once is not asked again");
        assertEquals(new GuestSystem.Result(true, "exec", null, null),
                guest.restore(new byte[16], null, System.nanoTime(), 400));
        silent.close();
    }

    @Test
    void aServedHelperThatReportsAFailureIsBelievedNotBypassed() throws Exception {
        FakeRestoreHelper helper = FakeRestoreHelper.in(dir);
        GuestSystem guest = GuestSystem.open("/bin/false", dir);
        helper.answer("4b 52 01 43 00 00 00 01 00 1f", "kiln-restore: RNDADDENTROPY: EP");
        assertEquals(new GuestSystem.Result(false, "served",
                        "served kiln-restore failed with status 67: kiln-restore: RNDADDENTROPY: EP", null),
                guest.restore(new byte[16], null, System.nanoTime(), 10_000));
        assertTrue(guest.served());
        helper.close();
    }

    /** A stand-in for kiln-restore: records its argument, reads its stdin. */
    private Path recorder(Path args) throws IOException {
        Path command = dir.resolve("fake-kiln-restore");
        Files.writeString(command, "#!/bin/sh\necho \"$@\" > " + args + "\ncat > /dev/null\n");
        Files.setPosixFilePermissions(command, PosixFilePermissions.fromString("rwxr-xr-x"));
        return command;
    }
}
