package io.kiln.function;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Immutable, multi-valued HTTP headers with case-insensitive names.
 *
 * <p>Entries keep the order and the spelling they were added with (the gateway passes what the
 * client sent); lookups ignore case. Names must be HTTP tokens and values must not contain CR,
 * LF or NUL, so a header can never smuggle a second header or a body into a response.
 */
public final class Headers {

    private static final Headers EMPTY = new Headers(List.of());

    /** Every (name, value) pair, in insertion order. */
    private final List<Map.Entry<String, String>> entries;
    /** Lower-cased name to its values, in insertion order; derived from {@link #entries}. */
    private final Map<String, List<String>> byName;

    private Headers(List<Map.Entry<String, String>> entries) {
        this.entries = List.copyOf(entries);
        Map<String, List<String>> index = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : this.entries) {
            index.computeIfAbsent(key(e.getKey()), k -> new ArrayList<>()).add(e.getValue());
        }
        index.replaceAll((k, v) -> List.copyOf(v));
        this.byName = Collections.unmodifiableMap(index);
    }

    /** No headers. */
    public static Headers empty() {
        return EMPTY;
    }

    /** Headers from alternating names and values: {@code of("Accept", "a/b", "X-N", "1")}. */
    public static Headers of(String... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("names and values must come in pairs");
        }
        Builder b = builder();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            b.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return b.build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these headers, to derive a changed copy. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.entries.addAll(entries);
        return b;
    }

    /** The first value of {@code name}, if any. */
    public Optional<String> first(String name) {
        List<String> values = byName.get(key(name));
        return values == null ? Optional.empty() : Optional.of(values.get(0));
    }

    /** Every value of {@code name} in order; empty if absent. */
    public List<String> all(String name) {
        return byName.getOrDefault(key(name), List.of());
    }

    public boolean contains(String name) {
        return byName.containsKey(key(name));
    }

    /** The distinct names, spelt as first added, in insertion order. */
    public Set<String> names() {
        Set<String> seen = new LinkedHashSet<>();
        Set<String> names = new LinkedHashSet<>();
        for (Map.Entry<String, String> e : entries) {
            if (seen.add(key(e.getKey()))) {
                names.add(e.getKey());
            }
        }
        return Collections.unmodifiableSet(names);
    }

    /** Every (name, value) pair in insertion order. */
    public List<Map.Entry<String, String>> entries() {
        return entries;
    }

    /** Number of (name, value) pairs. */
    public int size() {
        return entries.size();
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Equal when the same names (ignoring case) have the same values in the same order. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Headers other && byName.equals(other.byName);
    }

    @Override
    public int hashCode() {
        return byName.hashCode();
    }

    @Override
    public String toString() {
        return entries.toString();
    }

    private static String key(String name) {
        return name.toLowerCase(Locale.ROOT);
    }

    static String checkName(String name) {
        Objects.requireNonNull(name, "header name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("empty header name");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            // RFC 9110 token characters: visible ASCII except delimiters.
            if (c <= 0x20 || c >= 0x7f || "\"(),/:;<=>?@[\\]{}".indexOf(c) >= 0) {
                throw new IllegalArgumentException("invalid character in header name: " + name);
            }
        }
        return name;
    }

    static String checkValue(String name, String value) {
        Objects.requireNonNull(value, "header value");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\r' || c == '\n' || c == 0) {
                throw new IllegalArgumentException("CR, LF or NUL in the value of header " + name);
            }
        }
        return value;
    }

    /** Collects headers; not thread-safe, build once. */
    public static final class Builder {
        private final List<Map.Entry<String, String>> entries = new ArrayList<>();

        private Builder() {
        }

        /** Adds a value, keeping any earlier values of the same name. */
        public Builder add(String name, String value) {
            entries.add(Map.entry(checkName(name), checkValue(name, value)));
            return this;
        }

        /** Replaces every value of {@code name} (any case) with this one. */
        public Builder set(String name, String value) {
            remove(name);
            return add(name, value);
        }

        /** Removes every value of {@code name} (any case). */
        public Builder remove(String name) {
            String k = key(name);
            entries.removeIf(e -> key(e.getKey()).equals(k));
            return this;
        }

        public Headers build() {
            return entries.isEmpty() ? EMPTY : new Headers(entries);
        }
    }
}
