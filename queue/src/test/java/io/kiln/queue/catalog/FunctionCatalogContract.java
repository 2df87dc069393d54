package io.kiln.queue.catalog;

import io.kiln.queue.db.Database;
import io.kiln.queue.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shared function catalog, the same on both stores. */
abstract class FunctionCatalogContract {

    static final Instant T0 = Instant.parse("2026-11-30T12:00:00Z");

    final MutableClock clock = new MutableClock(T0);
    Database db;
    FunctionCatalog catalog;
    /** How many times a publish opened a jar. */
    final AtomicInteger opens = new AtomicInteger();

    abstract String freshUrl() throws Exception;

    @BeforeEach
    void open() throws Exception {
        db = Database.open(freshUrl(), 4);
        catalog = new FunctionCatalog(db, clock);
    }

    @AfterEach
    void close() {
        db.close();
    }

    static byte[] jar(String text) {
        return ("PK\3\4" + text).getBytes(StandardCharsets.UTF_8);
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    CatalogVersion version(String name, long n, byte[] jar) throws Exception {
        return new CatalogVersion(name, n, sha256(jar), jar.length, "{\"v\":" + n + "}", 1000 + n);
    }

    long publish(String name, long n, byte[] jar) throws Exception {
        return catalog.publish(version(name, n, jar), () -> {
            opens.incrementAndGet();
            return new ByteArrayInputStream(jar);
        });
    }

    static byte[] read(InputStream in) throws IOException {
        try (in) {
            return in.readAllBytes();
        }
    }

    @Test
    void aPublishedVersionIsCurrentAndItsJarReadsBack() throws Exception {
        assertTrue(catalog.state().neverUsed());
        byte[] jar = jar("one");
        long seq = publish("f", 1, jar);
        assertEquals(version("f", 1, jar), catalog.current("f").orElseThrow());
        assertEquals(List.of(version("f", 1, jar)), catalog.list());
        assertEquals(List.of(version("f", 1, jar)), catalog.versions("f"));
        assertArrayEquals(jar, read(catalog.openJar(sha256(jar))));
        CatalogState state = catalog.state();
        assertEquals(seq, state.seq());
        assertFalse(state.neverUsed());
        assertTrue(catalog.current("g").isEmpty());
        assertThrows(IOException.class, () -> catalog.openJar("0".repeat(64)));
    }

    @Test
    void aJarIsStoredOnceForEveryVersionAndFunctionThatHasIt() throws Exception {
        byte[] jar = jar("shared");
        publish("f", 1, jar);
        publish("f", 2, jar);
        publish("g", 1, jar);
        assertEquals(1, opens.get(), "only the first publish reads the jar");
        assertEquals(1, catalog.jars());
        assertTrue(catalog.hasJar(sha256(jar)));
    }

    @Test
    void aVersionThatIsTakenOrNotTheNextIsAConflict() throws Exception {
        publish("f", 1, jar("a"));
        VersionConflict taken = assertThrows(VersionConflict.class, () -> publish("f", 1, jar("b")));
        assertEquals(1, taken.current());
        assertEquals(1, taken.version());
        assertEquals("another deploy of f committed version 1 first; deploy again (this one prepared version 1)",
                taken.getMessage());
        VersionConflict gap = assertThrows(VersionConflict.class, () -> publish("f", 3, jar("c")));
        assertEquals(1, gap.current());
        // Nothing of the refused publishes stays: not their jars, not their versions.
        assertEquals(1, catalog.jars());
        assertEquals(List.of(1L), catalog.versions("f").stream().map(CatalogVersion::version).toList());
        publish("f", 2, jar("b"));
        assertEquals(2, catalog.current("f").orElseThrow().version());
    }

    @Test
    void aNewFunctionTakesAnyNumberSoAnExistingNodeCanSeedTheCatalog() throws Exception {
        publish("f", 7, jar("a"));
        assertEquals(7, catalog.current("f").orElseThrow().version());
        assertThrows(VersionConflict.class, () -> publish("f", 9, jar("b")));
    }

    @Test
    void changesSinceReportsPublishesAndDeletesInOrder() throws Exception {
        long s1 = publish("f", 1, jar("a"));
        long s2 = publish("g", 1, jar("b"));
        long s3 = publish("f", 2, jar("c"));
        assertTrue(s1 < s2 && s2 < s3);
        List<CatalogEntry> changes = catalog.changesSince(s1);
        assertEquals(List.of("g", "f"), changes.stream().map(CatalogEntry::name).toList());
        assertEquals(List.of(s2, s3), changes.stream().map(CatalogEntry::seq).toList());
        assertEquals(2, changes.get(1).current().version());

        assertTrue(catalog.delete("g"));
        assertFalse(catalog.delete("g"));
        assertFalse(catalog.delete("nothing"));
        List<CatalogEntry> after = catalog.changesSince(s3);
        assertEquals(1, after.size());
        assertEquals("g", after.get(0).name());
        assertTrue(after.get(0).deleted());
        assertNull(after.get(0).current());
        assertTrue(catalog.current("g").isEmpty());
        assertEquals(List.of(), catalog.versions("g"));
        assertEquals(List.of("f"), catalog.list().stream().map(CatalogVersion::name).toList());
        CatalogState state = catalog.state();
        assertEquals(after.get(0).seq(), state.seq());
        assertEquals(2, state.entries().size());
        assertFalse(state.neverUsed());
        assertEquals(List.of(), catalog.changesSince(state.seq()));

        // The deleted function's jar is collected; a new deploy of the name starts again.
        assertEquals(2, catalog.jars());
        publish("g", 1, jar("new g"));
        assertEquals(version("g", 1, jar("new g")), catalog.current("g").orElseThrow());
    }

    @Test
    void aJarThatIsNotItsHashIsRefusedAndNothingIsStored() throws Exception {
        byte[] jar = jar("real");
        CatalogVersion v = version("f", 1, jar);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> catalog.publish(v, () -> new ByteArrayInputStream(jar("forged"))));
        assertTrue(e.getMessage().startsWith("the jar given for f@1 is sha256:" + sha256(jar("forged"))),
                e.getMessage());
        assertEquals(0, catalog.jars());
        assertTrue(catalog.state().neverUsed());
    }

    @Test
    void aJarOfSeveralChunksStreamsBothWays() throws Exception {
        byte[] jar = new byte[2 * FunctionCatalog.CHUNK + 12345];
        new Random(42).nextBytes(jar);
        publish("big", 1, jar);
        try (InputStream in = catalog.openJar(sha256(jar))) {
            // Byte by byte across a chunk's end, then the rest in bulk.
            byte[] head = new byte[FunctionCatalog.CHUNK + 2];
            for (int i = 0; i < head.length; i++) {
                head[i] = (byte) in.read();
            }
            byte[] rest = in.readAllBytes();
            assertEquals(-1, in.read());
            byte[] all = new byte[head.length + rest.length];
            System.arraycopy(head, 0, all, 0, head.length);
            System.arraycopy(rest, 0, all, head.length, rest.length);
            assertArrayEquals(jar, all);
        }
    }

    @Test
    void theLastTenVersionsAreKeptAndOlderJarsCollected() throws Exception {
        for (int n = 1; n <= 12; n++) {
            publish("f", n, jar("v" + n));
        }
        assertEquals(List.of(3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L),
                catalog.versions("f").stream().map(CatalogVersion::version).toList());
        assertEquals(10, catalog.jars());
        assertFalse(catalog.hasJar(sha256(jar("v1"))));
        assertTrue(catalog.hasJar(sha256(jar("v3"))));
        assertEquals(0, catalog.collectGarbage());
    }
}
