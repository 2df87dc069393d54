package io.kiln.invoker.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.kiln.queue.Destination;
import io.kiln.queue.EventPolicy;
import io.kiln.queue.RetryPolicy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FunctionStoreTest {

    private static final FunctionConfig CONFIG = FunctionConfig.of("com.example.Fn");

    @TempDir
    Path dir;

    /** A real (tiny) jar whose one entry holds {@code text}; the same text gives the same bytes. */
    private static byte[] jar(String text) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            ZipEntry entry = new ZipEntry("hello.txt");
            entry.setTime(0);
            zip.putNextEntry(entry);
            zip.write(text.getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static FunctionVersion deploy(FunctionStore store, String name, byte[] jar)
            throws IOException {
        return store.deploy(name, new ByteArrayInputStream(jar), CONFIG);
    }

    private List<String> files(String sub) throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve(sub))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void refused(String message, ThrowingRunnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertEquals(message, e.getMessage());
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void deployedVersionIsCurrentListedAndItsJarIsStoredByContent() throws Exception {
        FunctionStore store = FunctionStore.open(dir);
        byte[] jar = jar("one");
        Instant before = Instant.now().minusMillis(1);
        FunctionVersion v = deploy(store, "hello", jar);

        assertEquals("hello", v.name());
        assertEquals(1, v.version());
        assertEquals(sha256(jar), v.jarSha256());
        assertEquals(jar.length, v.jarSize());
        assertEquals(CONFIG, v.config());
        assertTrue(!v.createdAt().isBefore(before) && !v.createdAt().isAfter(Instant.now()));

        assertEquals(v, store.current("hello").orElseThrow());
        assertEquals(v, store.version("hello", 1).orElseThrow());
        assertTrue(store.version("hello", 2).isEmpty());
        assertEquals(List.of(v), store.versions("hello"));
        assertEquals(List.of(v), store.list());
        assertTrue(store.current("nobody").isEmpty());
        assertEquals(List.of(), store.versions("nobody"));

        assertEquals(dir.resolve("blobs/sha256/" + sha256(jar) + ".jar"), store.jar(v));
        assertArrayEquals(jar, Files.readAllBytes(store.jar(v)));
        assertEquals(List.of("v1.json"), files("functions/hello"));
    }

    @Test
    void versionFileIsPlainJsonWithMilliseconds() throws Exception {
        FunctionStore store = FunctionStore.open(dir);
        FunctionVersion v = store.deploy("hello", new ByteArrayInputStream(jar("one")),
                CONFIG.withEnv(Map.of("B", "2", "A", "1")).withTimeout(Duration.ofMillis(1500)));
        assertEquals("{\n"
                + "  \"name\" : \"hello\",\n"
                + "  \"version\" : 1,\n"
                + "  \"jarSha256\" : \"" + v.jarSha256() + "\",\n"
                + "  \"jarSize\" : " + v.jarSize() + ",\n"
                + "  \"config\" : {\n"
                + "    \"handler\" : \"com.example.Fn\",\n"
                + "    \"memoryMib\" : 256,\n"
                + "    \"timeoutMs\" : 1500,\n"
                + "    \"env\" : {\n"
                + "      \"A\" : \"1\",\n"
                + "      \"B\" : \"2\"\n"
                + "    },\n"
                + "    \"maxConcurrency\" : 10,\n"
                + "    \"minInstances\" : 0,\n"
                + "    \"maxInstances\" : 10,\n"
                + "    \"keepAliveMs\" : 300000,\n"
                + "    \"publicInvoke\" : false,\n"
                + "    \"events\" : {\n"
                + "      \"maxRetries\" : 2,\n"
                + "      \"backoffMs\" : 1000,\n"
                + "      \"maxBackoffMs\" : 300000,\n"
                + "      \"maxEventAgeMs\" : 21600000,\n"
                + "      \"onSuccess\" : \"\",\n"
                + "      \"onFailure\" : \"\"\n"
                + "    }\n"
                + "  },\n"
                + "  \"createdAtMs\" : " + v.createdAt().toEpochMilli() + "\n"
                + "}", Files.readString(dir.resolve("functions/hello/v1.json")));
    }

    @Test
    void aVersionFileFromBeforeEventPoliciesReadsWithTheDefaultPolicy() throws Exception {
        FunctionStore store = FunctionStore.open(dir);
        FunctionVersion v = store.deploy("hello", new ByteArrayInputStream(jar("one")), CONFIG.withEvents(
                new EventPolicy(new RetryPolicy(0, Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ZERO),
                        Destination.parse("onFailure", "function:audit"), null)));
        Path file = dir.resolve("functions/hello/v1.json");
        assertEquals(v, FunctionStore.open(dir).current("hello").orElseThrow(), "a policy survives a reopen");
        String old = Files.readString(file).replaceAll(",\\n    \"events\" : \\{[^}]*\\}", "");
        assertTrue(!old.contains("events"), old);
        Files.writeString(file, old);
        assertEquals(EventPolicy.DEFAULT, FunctionStore.open(dir).current("hello").orElseThrow().config().events());
    }

    @Test
    void sameJarTwiceIsOneBlobAndTwoVersions() throws Exception {
        FunctionStore store = FunctionStore.open(dir);
        byte[] jar = jar("same");
        FunctionVersion v1 = deploy(store, "hello", jar);
        FunctionVersion v2 = deploy(store, "hello", jar);
        FunctionVersion other = deploy(store, "other", jar);

        assertEquals(List.of(1L, 2L, 1L), List.of(v1.version(), v2.version(), other.version()));
        assertEquals(v1.jarSha256(), v2.jarSha256());
        assertEquals(store.jar(v1), store.jar(other));
        assertEquals(List.of(sha256(jar) + ".jar"), files("blobs/sha256"));
    }

    @Test
    void redeployMakesTheNextVersionCurrentAndListIsSortedByName() throws Exception {
        FunctionStore store = FunctionStore.open(dir);
        FunctionVersion b1 = deploy(store, "b", jar("b1"));
        FunctionVersion a1 = deploy(store, "a", jar("a1"));
        FunctionVersion b2 = store.deploy("b", new ByteArrayInputStream(jar("b2")),
                CONFIG.withMemoryMib(1024));
        FunctionVersion c1 = deploy(store, "c-1", jar("c1"));

        assertEquals(2, b2.version());
        assertEquals(1024, b2.config().memoryMib());
        assertEquals(b2, store.current("b").orElseThrow());
        assertEquals(b1, store.version("b", 1).orElseThrow());
        assertEquals(List.of(b1, b2), store.versions("b"));
        assertEquals(List.of(a1, b2, c1), store.list());
    }

    @Test
    void aNewStoreOverTheSameDirectorySeesEqualRecords() throws Exception {
        FunctionStore store = FunctionStore.open(dir);
        deploy(store, "hello", jar("one"));
        store.deploy("hello", new ByteArrayInputStream(jar("two")), new FunctionConfig(
                "com.example.Fn::handle", 2048, Duration.ofMillis(1234), Map.of("Z", "z", "A", "\u00e9"),
                50, 2, 20, Duration.ofHours(1), true));
        deploy(store, "world", jar("three"));

        FunctionStore reopened = FunctionStore.open(dir);
        assertEquals(store.list(), reopened.list());
        assertEquals(store.versions("hello"), reopened.versions("hello"));
        assertEquals(store.versions("world"), reopened.versions("world"));
        assertEquals(List.of("A", "Z"),
                new ArrayList<>(reopened.current("hello").orElseThrow().config().env().keySet()));
        // Numbering carries on from what is on disk.
        assertEquals(3, deploy(reopened, "hello", jar("four")).version());
    }

    @Test
    void deleteForgetsEveryVersionButLeavesTheJars() throws Exception {
        FunctionStore store = FunctionStore.open(dir);
        FunctionVersion v1 = deploy(store, "hello", jar("one"));
        deploy(store, "hello", jar("two"));
        FunctionVersion kept = deploy(store, "kept", jar("three"));

        assertTrue(store.delete("hello"));
        assertFalse(store.delete("hello"));
        assertFalse(store.delete("nobody"));
        assertTrue(store.current("hello").isEmpty());
        assertEquals(List.of(), store.versions("hello"));
        assertEquals(List.of(kept), store.list());
        assertEquals(List.of("kept"), files("functions"));
        // A call in flight may still be reading it.
        assertTrue(Files.exists(store.jar(v1)));

        FunctionStore reopened = FunctionStore.open(dir);
        assertTrue(reopened.current("hello").isEmpty());
        assertEquals(List.of(kept), reopened.list());
        // A deleted name starts again from 1.
        assertEquals(1, deploy(reopened, "hello", jar("four")).version());
    }

    @Test
    void badNamesAreRefused() throws Exception {
        for (String good : List.of("a", "0", "a-b", "9lives", "a".repeat(63))) {
            FunctionStore.checkName(good);
        }
        refused("function name must be 1 to 63 lowercase letters, digits and hyphens, starting"
                + " and ending with a letter or digit, got \"Hello\"", () -> FunctionStore.checkName("Hello"));
        refused("function name must be 1 to 63 lowercase letters, digits and hyphens, starting"
                + " and ending with a letter or digit, got none", () -> FunctionStore.checkName(null));
        for (String bad : List.of("", "-a", "a-", "a_b", "a.b", "../x", "a b", "a".repeat(64), ".tmp-x")) {
            assertThrows(IllegalArgumentException.class, () -> FunctionStore.checkName(bad), bad);
        }

        FunctionStore store = FunctionStore.open(dir);
        assertThrows(IllegalArgumentException.class, () -> deploy(store, "../escape", jar("x")));
        assertEquals(List.of(), files("blobs/sha256"));
        assertEquals(List.of(), files("functions"));
    }

    @Test
    void jarOverTheLimitIsRefusedAndLeavesNothing() throws Exception {
        FunctionStore store = FunctionStore.open(dir);
        InputStream huge = new InputStream() {
            // A zip header and then zeros, MAX_JAR_BYTES + 1 in all, made up as they are read.
            private long left = FunctionStore.MAX_JAR_BYTES + 1;
            private int pos;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left == 0) {
                    return -1;
                }
                int n = (int) Math.min(len, left);
                Arrays.fill(b, off, off + n, (byte) 0);
                for (int i = 0; i < n && pos < 4; i++, pos++) {
                    b[off + i] = new byte[] {'P', 'K', 3, 4}[pos];
                }
                left -= n;
                return n;
            }
        };
        refused("jar is larger than the limit of 256 MiB (268435456 bytes)",
                () -> store.deploy("big", huge, CONFIG));
        assertEquals(List.of(), files("blobs/sha256"));
        assertEquals(List.of(), store.list());
    }

    @Test
    void notAJarIsRefused() throws Exception {
        FunctionStore store = FunctionStore.open(dir);
        refused("not a jar: it does not start with a zip header (PK\\3\\4)",
                () -> deploy(store, "hello", "hello world".getBytes(StandardCharsets.UTF_8)));
        refused("not a jar: it does not start with a zip header (PK\\3\\4)",
                () -> deploy(store, "hello", new byte[] {'P', 'K'}));
        refused("not a jar: the upload is empty", () -> deploy(store, "hello", new byte[0]));
        assertEquals(List.of(), files("blobs/sha256"));
        assertEquals(List.of(), files("functions"));
        assertEquals(List.of(), store.list());
    }

    @Test
    void unreadableVersionFilesAreSkippedAndTheRestLoad() throws Exception {
        FunctionStore store = FunctionStore.open(dir);
        FunctionVersion a1 = deploy(store, "a", jar("a1"));
        deploy(store, "a", jar("a2"));
        FunctionVersion a3 = deploy(store, "a", jar("a3"));
        deploy(store, "b", jar("b1"));
        FunctionVersion c1 = deploy(store, "c", jar("c1"));
        deploy(store, "c", jar("c2"));
        Path a = dir.resolve("functions/a");
        Path c = dir.resolve("functions/c");

        Files.writeString(a.resolve("v2.json"), "{\"name\" : \"a\", \"vers");     // cut short
        Files.copy(a.resolve("v1.json"), a.resolve("v7.json"));                   // holds a@1
        Files.writeString(a.resolve("notes.txt"), "not a version");
        Files.writeString(dir.resolve("functions/b/v1.json"), "null");
        Files.writeString(c.resolve("v2.json"),                                 // a bad value
                Files.readString(c.resolve("v2.json")).replace("\"memoryMib\" : 256", "\"memoryMib\" : 1"));
        Files.createDirectory(dir.resolve("functions/Not_A_Name"));

        FunctionStore reopened = FunctionStore.open(dir);
        assertEquals(List.of(a1, a3), reopened.versions("a"));
        assertTrue(reopened.current("b").isEmpty());
        assertEquals(List.of(a3, c1), reopened.list());
    }

    @Test
    void leftoverTempFilesAreDeletedOnOpen() throws Exception {
        FunctionStore store = FunctionStore.open(dir);
        FunctionVersion v = deploy(store, "hello", jar("one"));
        Files.write(dir.resolve("blobs/sha256/.tmp-123.jar"), jar("half"));
        Files.writeString(dir.resolve("functions/hello/.tmp-456.json"), "{");
        Path deleted = Files.createDirectory(dir.resolve("functions/.tmp-gone-789"));
        Files.writeString(deleted.resolve("v1.json"), "{}");

        FunctionStore reopened = FunctionStore.open(dir);
        assertEquals(List.of(v.jarSha256() + ".jar"), files("blobs/sha256"));
        assertEquals(List.of("hello"), files("functions"));
        assertEquals(List.of("v1.json"), files("functions/hello"));
        assertEquals(List.of(v), reopened.list());
    }

    @Test
    void onlyTheNewestTenVersionsAreKept() throws Exception {
        FunctionStore store = FunctionStore.open(dir);
        List<FunctionVersion> all = new ArrayList<>();
        for (int i = 1; i <= 12; i++) {
            all.add(deploy(store, "hello", jar("v" + i)));
        }
        assertEquals(all.subList(2, 12), store.versions("hello"));
        assertTrue(store.version("hello", 2).isEmpty());
        assertEquals(LongStream.rangeClosed(3, 12).mapToObj(n -> "v" + n + ".json").sorted().toList(),
                files("functions/hello"));
        // Pruning forgets versions; their jars wait for the garbage collector.
        assertEquals(12, files("blobs/sha256").size());
        assertEquals(2, store.collectGarbage(Set.of()));
        assertFalse(Files.exists(store.jar(all.get(0))));
        assertEquals(all.subList(2, 12), FunctionStore.open(dir).versions("hello"));
    }

    @Test
    void garbageIsEveryJarNeitherReferencedNorInUse() throws Exception {
        FunctionStore store = FunctionStore.open(dir);
        FunctionVersion kept = deploy(store, "kept", jar("kept"));
        FunctionVersion running = deploy(store, "running", jar("running"));
        FunctionVersion gone = deploy(store, "gone", jar("gone"));
        FunctionVersion shared = deploy(store, "shared", jar("kept"));
        store.delete("running");
        store.delete("gone");
        store.delete("shared");
        Path upload = dir.resolve("blobs/sha256/.tmp-upload.jar");
        Files.write(upload, jar("in progress"));

        assertEquals(1, store.collectGarbage(Set.of(running.jarSha256())));
        assertTrue(Files.exists(store.jar(kept)));
        assertTrue(Files.exists(store.jar(shared)));
        assertTrue(Files.exists(store.jar(running)));
        assertFalse(Files.exists(store.jar(gone)));
        assertTrue(Files.exists(upload));

        assertEquals(0, store.collectGarbage(Set.of(running.jarSha256())));
        assertEquals(1, store.collectGarbage(Set.of()));
        assertEquals(List.of(".tmp-upload.jar", kept.jarSha256() + ".jar"), files("blobs/sha256"));
    }

    @Test
    void concurrentDeploysToOneNameGetEveryNumberOnce() throws Exception {
        FunctionStore store = FunctionStore.open(dir);
        int threads = 8;
        int each = 6;
        List<byte[]> jars = List.of(jar("x"), jar("y"), jar("z"));
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<Long>>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                results.add(pool.submit(() -> {
                    start.await();
                    List<Long> mine = new ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        mine.add(deploy(store, "busy", jars.get((thread + i) % jars.size())).version());
                    }
                    return mine;
                }));
            }
            start.countDown();
            List<Long> numbers = new ArrayList<>();
            for (Future<List<Long>> r : results) {
                numbers.addAll(r.get());
            }
            numbers.sort(null);
            int total = threads * each;
            assertEquals(LongStream.rangeClosed(1, total).boxed().toList(), numbers);
            assertEquals(LongStream.rangeClosed(total - 9, total).boxed().toList(),
                    store.versions("busy").stream().map(FunctionVersion::version).toList());
            assertEquals(3, files("blobs/sha256").size());
            assertEquals(10, files("functions/busy").size());
            assertEquals(store.versions("busy"), FunctionStore.open(dir).versions("busy"));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void adoptStoresAVersionWithItsOwnNumberOnlyAboveTheCurrentOne() throws Exception {
        FunctionStore store = FunctionStore.open(dir);
        deploy(store, "f", jar("one"));
        byte[] two = jar("two");
        FunctionVersion v7 = new FunctionVersion("f", 7, sha256(two), two.length, CONFIG,
                Instant.parse("2026-11-30T08:00:00Z"));
        IllegalStateException unstaged = assertThrows(IllegalStateException.class, () -> store.adopt(v7));
        assertEquals("jar " + sha256(two) + " of f@7 is not staged", unstaged.getMessage());
        assertFalse(store.hasJar(sha256(two)));
        store.stage(new ByteArrayInputStream(two));
        assertTrue(store.hasJar(sha256(two)));
        store.adopt(v7);
        assertEquals(v7, store.current("f").orElseThrow());
        assertEquals(List.of(1L, 7L), store.versions("f").stream().map(FunctionVersion::version).toList());
        IllegalStateException old = assertThrows(IllegalStateException.class, () -> store.adopt(
                new FunctionVersion("f", 7, sha256(two), two.length, CONFIG, Instant.now())));
        assertEquals("cannot adopt f@7: this store has version 7 already", old.getMessage());
        // The next local deploy numbers on from the adopted version, and a reopened store has both.
        assertEquals(8, deploy(store, "f", jar("three")).version());
        assertEquals(List.of(1L, 7L, 8L), FunctionStore.open(dir).versions("f").stream()
                .map(FunctionVersion::version).toList());
        assertFalse(store.hasJar("../../etc/passwd"));
    }
}
