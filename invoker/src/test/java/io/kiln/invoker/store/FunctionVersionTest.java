package io.kiln.invoker.store;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FunctionVersionTest {

    private static final String SHA = "ab".repeat(32);
    private static final FunctionConfig CONFIG = FunctionConfig.of("com.example.Fn");

    @Test
    void idIsNameAtVersion() {
        assertEquals("hello@3", new FunctionVersion("hello", 3, SHA, 10, CONFIG, Instant.EPOCH).id());
    }

    @Test
    void createdAtIsKeptToTheMillisecondItIsStoredIn() {
        Instant t = Instant.ofEpochSecond(1_700_000_000, 123_456_789);
        assertEquals(Instant.ofEpochSecond(1_700_000_000, 123_000_000),
                new FunctionVersion("hello", 1, SHA, 10, CONFIG, t).createdAt());
    }

    @Test
    void fieldsThatWouldMisleadTheStoreAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FunctionVersion("hello", 0, SHA, 10, CONFIG, Instant.EPOCH));
        assertEquals("version must be at least 1, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new FunctionVersion("hello", 1, "../../etc/passwd", 10, CONFIG, Instant.EPOCH));
        assertEquals("jarSha256 must be 64 lowercase hex digits, got ../../etc/passwd", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new FunctionVersion("hello", 1, SHA.toUpperCase(), 10, CONFIG, Instant.EPOCH));
        assertThrows(IllegalArgumentException.class,
                () -> new FunctionVersion("Hello", 1, SHA, 10, CONFIG, Instant.EPOCH));
        assertThrows(NullPointerException.class,
                () -> new FunctionVersion("hello", 1, SHA, 10, null, Instant.EPOCH));
        assertThrows(NullPointerException.class,
                () -> new FunctionVersion("hello", 1, SHA, 10, CONFIG, null));
    }
}
