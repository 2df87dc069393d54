package io.kiln.queue.schedule;

import java.util.regex.Pattern;

/**
 * A schedule as a user sets it (API body, CLI flags): what to call, when, and how. The spec
 * fields are kept as given ({@code kind}, {@code value}, {@code zone}) and parsed by
 * {@link ScheduleSpec#parse} when stored.
 *
 * @param name 1 to 64 letters, digits, {@code .}, {@code _} or {@code -}, starting with a letter
 *     or digit: the id users see
 * @param kind {@code cron}, {@code rate} or {@code at}
 * @param zone the IANA zone (required for cron; null otherwise unless an "at" is local)
 * @param input the call's input for shape {@link Shape#PLAIN}
 */
public record ScheduleDefinition(String name, String function, String kind, String value, String zone,
                                 OverlapPolicy overlap, MisfirePolicy misfire, byte[] input, Shape shape,
                                 boolean enabled) {

    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    public ScheduleDefinition {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("name: \"" + name + "\" is not a schedule name; allowed: 1 to 64"
                    + " letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        if (function == null || function.isBlank()) {
            throw new IllegalArgumentException("function: missing; allowed: the name of a deployed function");
        }
        if (overlap == null || misfire == null || shape == null) {
            throw new IllegalArgumentException("overlap, misfire and shape are required");
        }
        input = input == null ? new byte[0] : input;
        // Stored as normalised, so that a repeated put of the same schedule is recognised as one.
        kind = kind == null ? null : kind.trim().toLowerCase(java.util.Locale.ROOT);
        value = value == null ? null : value.trim();
        zone = zone == null || zone.isBlank() ? null : zone.trim();
    }

    /** Whether {@code other} fires at the same times (so a replace keeps the schedule's progress). */
    boolean sameTimes(String otherKind, String otherValue, String otherZone) {
        return java.util.Objects.equals(kind, otherKind) && java.util.Objects.equals(value, otherValue) && java.util.Objects.equals(zone, otherZone);
    }
}
