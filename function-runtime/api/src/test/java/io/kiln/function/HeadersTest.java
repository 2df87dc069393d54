package io.kiln.function;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HeadersTest {

    @Test
    void namesAreCaseInsensitiveValuesOrderedAndRepeatable() {
        Headers h = Headers.of("Accept", "a/b", "X-Trace", "1", "x-trace", "2");
        assertEquals(Optional.of("a/b"), h.first("ACCEPT"));
        assertEquals(List.of("1", "2"), h.all("X-TRACE"));
        assertEquals(Set.of("Accept", "X-Trace"), h.names());
        assertEquals(List.of(Map.entry("Accept", "a/b"), Map.entry("X-Trace", "1"),
                Map.entry("x-trace", "2")), h.entries());
        assertEquals(3, h.size());
        assertTrue(h.contains("accept"));
        assertEquals(List.of(), h.all("missing"));
        assertEquals(Optional.empty(), h.first("missing"));
    }

    @Test
    void equalityIgnoresNameCaseButNotValueOrder() {
        assertEquals(Headers.of("A", "1", "b", "2"), Headers.of("a", "1", "B", "2"));
        assertEquals(Headers.of("A", "1").hashCode(), Headers.of("a", "1").hashCode());
        assertNotEquals(Headers.of("A", "1", "A", "2"), Headers.of("A", "2", "A", "1"));
    }

    @Test
    void builderSetRemoveAndCopies() {
        Headers h = Headers.of("A", "1", "a", "2", "B", "3");
        Headers changed = h.toBuilder().set("A", "9").remove("b").add("C", "4").build();
        assertEquals(List.of(Map.entry("A", "9"), Map.entry("C", "4")), changed.entries());
        assertEquals(3, h.size()); // the original is untouched
        assertTrue(Headers.builder().build().isEmpty());
        assertThrows(UnsupportedOperationException.class, () -> h.entries().clear());
        assertThrows(UnsupportedOperationException.class, () -> h.all("a").add("x"));
    }

    @Test
    void refusesWhatCouldSplitAResponse() {
        assertThrows(IllegalArgumentException.class, () -> Headers.of("A", "1\r\nB: 2"));
        assertThrows(IllegalArgumentException.class, () -> Headers.of("A", "1\n"));
        assertThrows(IllegalArgumentException.class, () -> Headers.of("A", "\0"));
        assertThrows(IllegalArgumentException.class, () -> Headers.of("A B", "1"));
        assertThrows(IllegalArgumentException.class, () -> Headers.of("A:", "1"));
        assertThrows(IllegalArgumentException.class, () -> Headers.of("", "1"));
        assertThrows(IllegalArgumentException.class, () -> Headers.of("A"));
        assertThrows(NullPointerException.class, () -> Headers.of("A", null));
        assertFalse(Headers.of("A", "tab\tand spaces ok").isEmpty());
    }
}
