package io.kiln.invoker.store;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Defaults, copies, and every field's limits with the messages users will read. */
class FunctionConfigTest {

    private static final FunctionConfig BASE = FunctionConfig.of("com.example.Fn");

    private static void refused(String message, Runnable build) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build::run);
        assertEquals(message, e.getMessage());
    }

    @Test
    void defaults() {
        assertEquals(new FunctionConfig("com.example.Fn", 256, Duration.ofSeconds(30), Map.of(),
                10, 0, 10, Duration.ofMinutes(5), false), BASE);
    }

    @Test
    void itsTextMasksTheEnvironmentsValues() {
        String text = BASE.withEnv(Map.of("SECRET", "hunter2", "A", "1")).toString();
        assertEquals("FunctionConfig[handler=com.example.Fn, memoryMib=256, timeout=PT30S, env={A=***, SECRET=***},"
                + " maxConcurrency=10, minInstances=0, maxInstances=10, keepAlive=PT5M, publicInvoke=false, events="
                + io.kiln.queue.EventPolicy.DEFAULT + "]", text);
    }

    @Test
    void eachWithChangesOneField() {
        assertEquals(new FunctionConfig("a.B::c", 256, Duration.ofSeconds(30), Map.of(),
                10, 0, 10, Duration.ofMinutes(5), false), BASE.withHandler("a.B::c"));
        assertEquals(new FunctionConfig("com.example.Fn", 512, Duration.ofSeconds(30), Map.of(),
                10, 0, 10, Duration.ofMinutes(5), false), BASE.withMemoryMib(512));
        assertEquals(new FunctionConfig("com.example.Fn", 256, Duration.ofSeconds(3), Map.of(),
                10, 0, 10, Duration.ofMinutes(5), false), BASE.withTimeout(Duration.ofSeconds(3)));
        assertEquals(new FunctionConfig("com.example.Fn", 256, Duration.ofSeconds(30), Map.of("A", "1"),
                10, 0, 10, Duration.ofMinutes(5), false), BASE.withEnv(Map.of("A", "1")));
        assertEquals(new FunctionConfig("com.example.Fn", 256, Duration.ofSeconds(30), Map.of(),
                7, 0, 10, Duration.ofMinutes(5), false), BASE.withMaxConcurrency(7));
        assertEquals(new FunctionConfig("com.example.Fn", 256, Duration.ofSeconds(30), Map.of(),
                10, 2, 10, Duration.ofMinutes(5), false), BASE.withMinInstances(2));
        assertEquals(new FunctionConfig("com.example.Fn", 256, Duration.ofSeconds(30), Map.of(),
                10, 0, 3, Duration.ofMinutes(5), false), BASE.withMaxInstances(3));
        assertEquals(new FunctionConfig("com.example.Fn", 256, Duration.ofSeconds(30), Map.of(),
                10, 0, 10, Duration.ZERO, false), BASE.withKeepAlive(Duration.ZERO));
        assertEquals(new FunctionConfig("com.example.Fn", 256, Duration.ofSeconds(30), Map.of(),
                10, 0, 10, Duration.ofMinutes(5), true), BASE.withPublicInvoke(true));
    }

    @Test
    void handlerIsAClassNameWithAnOptionalMethod() {
        for (String good : List.of("Fn", "com.example.Fn", "com.example.Fn::handle", "$a._b$",
                "a.B$Inner::m1", "_")) {
            assertEquals(good, BASE.withHandler(good).handler());
        }
        refused("handler must not be blank", () -> BASE.withHandler(null));
        refused("handler must not be blank", () -> BASE.withHandler(" \t"));
        refused("handler must be a class name, optionally with ::method"
                + " (like com.example.Fn::handle), got \"com..Fn\"", () -> BASE.withHandler("com..Fn"));
        for (String bad : List.of("com.example.Fn::", "a::b::c", "1Fn", "com.Fn#m", " com.Fn",
                "com.Fn ", "com.Fn.", ".Fn", "com.Fn:m", "com/Fn", "caf\u00e9.Fn")) {
            assertThrows(IllegalArgumentException.class, () -> BASE.withHandler(bad), bad);
        }
    }

    @Test
    void memoryIsBetween128MiBAnd16GiB() {
        assertEquals(128, BASE.withMemoryMib(128).memoryMib());
        assertEquals(16384, BASE.withMemoryMib(16384).memoryMib());
        refused("memoryMib must be between 128 and 16384, got 127", () -> BASE.withMemoryMib(127));
        refused("memoryMib must be between 128 and 16384, got 16385", () -> BASE.withMemoryMib(16385));
    }

    @Test
    void timeoutIsBetweenOneMillisecondAndFifteenMinutesInWholeMilliseconds() {
        assertEquals(Duration.ofMillis(1), BASE.withTimeout(Duration.ofMillis(1)).timeout());
        assertEquals(Duration.ofMinutes(15), BASE.withTimeout(Duration.ofMinutes(15)).timeout());
        assertEquals(Duration.ofMillis(1), BASE.withTimeout(Duration.ofNanos(1_999_999)).timeout());
        refused("timeout must be between 1 ms and 15 min, got 0 ms",
                () -> BASE.withTimeout(Duration.ZERO));
        refused("timeout must be between 1 ms and 15 min, got 0 ms",
                () -> BASE.withTimeout(Duration.ofNanos(999_999)));
        refused("timeout must be between 1 ms and 15 min, got -5 ms",
                () -> BASE.withTimeout(Duration.ofMillis(-5)));
        refused("timeout must be between 1 ms and 15 min, got 900001 ms",
                () -> BASE.withTimeout(Duration.ofMinutes(15).plusMillis(1)));
        refused("timeout must be between 1 ms and 15 min, got PT2562047788015215H30M7S",
                () -> BASE.withTimeout(Duration.ofSeconds(Long.MAX_VALUE)));
        refused("timeout must not be null", () -> BASE.withTimeout(null));
    }

    @Test
    void keepAliveIsBetweenZeroAnd24Hours() {
        assertEquals(Duration.ZERO, BASE.withKeepAlive(Duration.ZERO).keepAlive());
        assertEquals(Duration.ofHours(24), BASE.withKeepAlive(Duration.ofHours(24)).keepAlive());
        refused("keepAlive must be between 0 and 24 h, got -1 ms",
                () -> BASE.withKeepAlive(Duration.ofMillis(-1)));
        refused("keepAlive must be between 0 and 24 h, got 86400001 ms",
                () -> BASE.withKeepAlive(Duration.ofHours(24).plusMillis(1)));
        refused("keepAlive must be between 0 and 24 h, got PT-2562047788015215H-30M-8S",
                () -> BASE.withKeepAlive(Duration.ofSeconds(Long.MIN_VALUE)));
        refused("keepAlive must not be null", () -> BASE.withKeepAlive(null));
    }

    @Test
    void concurrencyAndInstanceCounts() {
        assertDoesNotThrow(() -> BASE.withMaxConcurrency(1).withMaxConcurrency(1000));
        refused("maxConcurrency must be between 1 and 1000, got 0", () -> BASE.withMaxConcurrency(0));
        refused("maxConcurrency must be between 1 and 1000, got 1001",
                () -> BASE.withMaxConcurrency(1001));

        assertDoesNotThrow(() -> BASE.withMaxInstances(1).withMaxInstances(1000));
        refused("maxInstances must be between 1 and 1000, got 0", () -> BASE.withMaxInstances(0));
        refused("maxInstances must be between 1 and 1000, got 1001", () -> BASE.withMaxInstances(1001));

        assertEquals(10, BASE.withMinInstances(10).minInstances());
        refused("minInstances must be between 0 and maxInstances (10), got -1",
                () -> BASE.withMinInstances(-1));
        refused("minInstances must be between 0 and maxInstances (10), got 11",
                () -> BASE.withMinInstances(11));
        // Lowering the maximum below the minimum is refused too: change the minimum first.
        refused("minInstances must be between 0 and maxInstances (4), got 5",
                () -> BASE.withMinInstances(5).withMaxInstances(4));
    }

    @Test
    void envIsASortedImmutableCopy() {
        Map<String, String> env = new HashMap<>(Map.of("ZED", "z", "alpha", "a", "_M1", "m"));
        FunctionConfig c = BASE.withEnv(env);
        env.put("LATE", "x");
        assertEquals(List.of("ZED", "_M1", "alpha"), new ArrayList<>(c.env().keySet()));
        assertThrows(UnsupportedOperationException.class, () -> c.env().put("A", "b"));
        assertEquals("", BASE.withEnv(Map.of("EMPTY", "")).env().get("EMPTY"));
    }

    @Test
    void envNamesValuesAndLimits() {
        refused("env must not be null", () -> BASE.withEnv(null));
        refused("env name must match [A-Za-z_][A-Za-z0-9_]*, got \"1A\"",
                () -> BASE.withEnv(Map.of("1A", "x")));
        for (String bad : List.of("", "A-B", "A.B", "A B", "\u00c9T\u00c9")) {
            assertThrows(IllegalArgumentException.class, () -> BASE.withEnv(Map.of(bad, "x")), bad);
        }
        Map<String, String> nullName = new HashMap<>();
        nullName.put(null, "x");
        refused("env name must match [A-Za-z_][A-Za-z0-9_]*, got null", () -> BASE.withEnv(nullName));
        Map<String, String> nullValue = new HashMap<>();
        nullValue.put("A", null);
        refused("env value of A must not be null", () -> BASE.withEnv(nullValue));

        Map<String, String> many = new HashMap<>();
        for (int i = 0; i < 64; i++) {
            many.put("V" + i, "x");
        }
        assertEquals(64, BASE.withEnv(many).env().size());
        many.put("V64", "x");
        refused("env must have at most 64 entries, got 65", () -> BASE.withEnv(many));

        assertEquals(1, BASE.withEnv(Map.of("A", "x".repeat(16383))).env().size());
        refused("env must be at most 16384 bytes (names and values, UTF-8), got 16385",
                () -> BASE.withEnv(Map.of("A", "x".repeat(16384))));
        // Counted in UTF-8 bytes, not chars: each é is two.
        refused("env must be at most 16384 bytes (names and values, UTF-8), got 16385",
                () -> BASE.withEnv(Map.of("A", "\u00e9".repeat(8192))));
    }
}
