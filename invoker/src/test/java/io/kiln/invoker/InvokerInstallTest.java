package io.kiln.invoker;

import io.kiln.agent.testing.Fixtures;
import io.kiln.invoker.store.FunctionConfig;
import io.kiln.invoker.store.FunctionVersion;
import io.kiln.invoker.store.VersionFile;
import io.kiln.invoker.testing.Await;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static io.kiln.invoker.testing.Calls.call;
import static io.kiln.invoker.testing.Calls.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a cluster needs of the invoker, on the process engine: a deploy's publisher hook between
 * init and the local commit, and installing a version committed by another node.
 */
class InvokerInstallTest {

    private static final Duration SETTLE = Duration.ofSeconds(10);

    @TempDir
    Path data;

    private Invoker invoker;

    private Invoker open() throws IOException {
        invoker = Invoker.start(InvokerConfig.defaults(data).withEngine("process").withMemoryBudgetMib(1024),
                new SimpleMeterRegistry());
        return invoker;
    }

    @AfterEach
    void close() {
        if (invoker != null) {
            invoker.close();
        }
    }

    private static FunctionConfig env(String greeting) {
        return FunctionConfig.of("com.example.Env").withMemoryMib(256).withEnv(Map.of("GREETING", greeting));
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static String answer(Invoker invoker, String function) {
        String t = text(call(invoker, function, ""));
        return t.substring(0, t.indexOf(" call="));
    }

    @Test
    void thePublisherSeesTheInitialisedVersionBeforeItIsStored() throws Exception {
        open();
        byte[] jar = Fixtures.functions();
        AtomicInteger published = new AtomicInteger();
        FunctionVersion v = invoker.deploy("f", new ByteArrayInputStream(jar), env("hi"), line -> { }, (pv, path) -> {
            assertEquals("f@1", pv.id());
            assertTrue(invoker.current("f").isEmpty(), "not stored before the publisher returns");
            assertEquals(sha256(jar), sha256(Files.readAllBytes(path)));
            published.incrementAndGet();
        });
        assertEquals(1, published.get());
        assertEquals(v, invoker.current("f").orElseThrow());
        assertEquals("hi f:1", answer(invoker, "f"));
    }

    @Test
    void aPublisherThatThrowsFailsTheDeployAndNothingOfItStays() throws Exception {
        open();
        invoker.deploy("f", new ByteArrayInputStream(Fixtures.functions()), env("one"), line -> { });
        assertEquals("one f:1", answer(invoker, "f"));
        IllegalStateException lost = new IllegalStateException("another node was first");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> invoker.deploy("f",
                new ByteArrayInputStream(Fixtures.functions()), env("two"), line -> { }, (v, jar) -> {
                    throw lost;
                }));
        assertSame(lost, thrown);
        assertEquals(1, invoker.current("f").orElseThrow().version());
        assertEquals(1, invoker.versions("f").size());
        assertEquals("one f:1", answer(invoker, "f"));
        // The refused version's own instance is destroyed, not added to the pool.
        Await.until(SETTLE, 1, () -> invoker.state("f").live(), "instances of f");

        // A checked failure arrives as an IOException with the cause.
        IOException io = assertThrows(IOException.class, () -> invoker.deploy("g",
                new ByteArrayInputStream(Fixtures.functions()), env("g"), line -> { }, (v, jar) -> {
                    throw new java.sql.SQLException("the catalog is down");
                }));
        assertEquals("publishing g@1 failed: the catalog is down", io.getMessage());
        assertTrue(invoker.current("g").isEmpty());
        assertEquals(List.of("f"), invoker.list().stream().map(FunctionVersion::name).toList());
    }

    @Test
    void aVersionFromElsewhereIsInstalledWithItsNumberAndServes() throws Exception {
        open();
        byte[] jar = Fixtures.functions();
        FunctionVersion v5 = new FunctionVersion("f", 5, sha256(jar), jar.length, env("five"),
                Instant.parse("2026-11-30T08:00:00Z"));
        AtomicInteger fetches = new AtomicInteger();
        assertTrue(invoker.install(v5, () -> {
            fetches.incrementAndGet();
            return new ByteArrayInputStream(jar);
        }));
        assertEquals(1, fetches.get());
        assertEquals(v5, invoker.current("f").orElseThrow());
        // No instance until the first call starts one.
        assertEquals(0, invoker.state("f").live());
        assertEquals("five f:5", answer(invoker, "f"));

        // The same version again: nothing to do.
        assertFalse(invoker.install(v5, () -> {
            throw new AssertionError("not fetched");
        }));
        // A number not above the current one is refused.
        FunctionVersion v4 = new FunctionVersion("f", 4, sha256(jar), jar.length, env("four"), Instant.now());
        IllegalStateException old = assertThrows(IllegalStateException.class, () -> invoker.install(v4,
                () -> new ByteArrayInputStream(jar)));
        assertEquals("cannot adopt f@4: this store has version 5 already", old.getMessage());
        // A fetched jar that is not the version's is refused, and the current version stays.
        byte[] claimed = "PK\3\4 a jar this node has not got".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] other = Fixtures.withLib();
        FunctionVersion forged = new FunctionVersion("f", 6, sha256(claimed), claimed.length, env("six"),
                Instant.now());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> invoker.install(forged,
                () -> new ByteArrayInputStream(other)));
        assertTrue(e.getMessage().startsWith("the jar fetched for f@6 is sha256:" + sha256(other)), e.getMessage());
        assertEquals(5, invoker.current("f").orElseThrow().version());

        // Its jar stored already: installing the next version fetches nothing, and switches.
        FunctionVersion v6 = new FunctionVersion("f", 6, sha256(jar), jar.length, env("six"), Instant.now());
        assertTrue(invoker.install(v6, () -> {
            throw new AssertionError("not fetched");
        }));
        assertEquals("six f:6", answer(invoker, "f"));

        // It is stored like any version: a restart serves it.
        invoker.close();
        open();
        assertEquals(v6, invoker.current("f").orElseThrow());
        assertEquals(List.of(5L, 6L), invoker.versions("f").stream().map(FunctionVersion::version).toList());
        assertEquals("six f:6", answer(invoker, "f"));
    }

    @Test
    void aVersionReadsBackFromItsCatalogJson() throws Exception {
        byte[] jar = Fixtures.functions();
        FunctionVersion v = new FunctionVersion("f", 3, sha256(jar), jar.length, env("x"),
                Instant.parse("2026-11-30T08:00:00.123Z"));
        assertEquals(v, VersionFile.fromJson(VersionFile.toJson(v)));
        assertThrows(IllegalArgumentException.class, () -> VersionFile.fromJson("{}"));
    }
}
