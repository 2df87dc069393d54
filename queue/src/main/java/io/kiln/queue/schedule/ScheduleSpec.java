package io.kiln.queue.schedule;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;

/**
 * When a schedule fires: a cron expression in an explicit time zone, a fixed rate, or once.
 * Pure computation: no clock, no store, no threads. Every refusal is an
 * {@link IllegalArgumentException} whose message names the field, the value given and what is
 * allowed; it is meant to reach the user as it is (an HTTP 400).
 */
public sealed interface ScheduleSpec {

  /** The first fire time strictly after {@code t}; empty if there is none (a past one-time). */
  Optional<Instant> nextAfter(Instant t);

  /** For humans: {@code cron "0 9 * * MON-FRI" in Europe/Berlin}, {@code every 5m}, {@code once at 2026-12-01T08:00:00Z}. */
  String describe();

  /**
   * A standard 5-field Unix cron expression (minute hour day-of-month month day-of-week; lists,
   * ranges, steps, names JAN-DEC and SUN-SAT, 0 and 7 both Sunday, and the macros
   * {@code @hourly @daily @weekly @monthly @yearly}) evaluated in an explicit time zone.
   * A zone is required: nothing is ever assumed to be UTC or the server's zone. Day-of-month
   * and day-of-week combine as in Vixie cron: if both are restricted a day matching either
   * fires, otherwise a day must match both.
   *
   * <p>DST rules:
   * <ul>
   *   <li>A fire time is a local wall-clock time in the zone that matches the expression.</li>
   *   <li>Spring forward (gap): a matching local time that does not exist that day fires ONCE,
   *       at the first instant after the gap (e.g. 02:30 in Europe/Berlin on the last Sunday of
   *       March fires at 03:00 CEST). Several matching times in one gap (e.g.
   *       {@code *}{@code /15 2 * * *}) fire once in total, not several times; a matching time
   *       right after the gap (03:00 here) coincides with that firing and does not add one.</li>
   *   <li>Fall back (overlap): a matching local time that occurs twice fires ONCE, at its first
   *       occurrence (the earlier offset) — except when the expression's hour field selects
   *       every hour ({@code *}, or anything equivalent such as {@code 0-23}), where it fires at
   *       both occurrences, so "every 15 minutes" keeps firing every 15 real minutes through the
   *       repeated hour (Vixie cron's rule).</li>
   * </ul>
   * These hold for shifts of any size (Australia/Lord_Howe shifts by 30 minutes).
   *
   * <p>Implementation: fire times are computed here, over {@link LocalDateTime} with the
   * expression's parsed field sets and the zone's {@link java.time.zone.ZoneRules}, not with
   * cron-utils' {@code ExecutionTime}, which 9.2.1 gets wrong both ways (checked on 2026's
   * transitions): a matching time in a gap does not fire at all that day ({@code 30 2 * * *} in
   * Europe/Berlin skips 2026-03-29, in America/New_York 2026-03-08, {@code 15 2 * * *} in
   * Australia/Lord_Howe 2026-10-04), and in an overlap a fixed-hour expression fires twice:
   * {@code *}{@code /30 2 * * *} in Europe/Berlin fires at 02:00 CEST, 02:30 CEST and again at
   * 02:00 CET on 2026-10-25, and {@code 30 2 * * *} asked from 02:10 CET gives 02:30 CET again.
   * (Its every-hour overlap behaviour happens to agree with ours.) Correctness over reuse. The
   * parser is ours too (small, and its messages name the field, the value and the range).
   *
   * @param expression the cron expression (stored trimmed, as given)
   * @param zone the IANA zone, e.g. Europe/Berlin or UTC; required
   */
  record Cron(String expression, ZoneId zone) implements ScheduleSpec {
    public Cron {
      if (zone == null) {
        throw new IllegalArgumentException(SpecText.MISSING_ZONE);
      }
      CronExpression.parse(expression);
      expression = expression.trim();
    }

    @Override
    public Optional<Instant> nextAfter(Instant t) {
      return CronExpression.parse(expression).nextAfter(t, zone);
    }

    @Override
    public String describe() {
      return "cron \"" + expression + "\" in " + zone.getId();
    }
  }

  /**
   * Fires at {@code anchor + k * every} for every k &gt;= 0; independent of time zones and DST.
   *
   * @param every at least one second
   * @param anchor the first fire time
   */
  record Rate(Duration every, Instant anchor) implements ScheduleSpec {
    public Rate {
      if (every == null || every.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException("rate \"" + (every == null ? "" : describe(every))
            + "\" is too short; allowed: at least 1s, e.g. 30s, 5m, 1h, 2d");
      }
      if (anchor == null) {
        throw new IllegalArgumentException("rate needs an anchor instant; none given");
      }
    }

    @Override
    public Optional<Instant> nextAfter(Instant t) {
      if (t.isBefore(anchor)) {
        return Optional.of(anchor);
      }
      long k = Duration.between(anchor, t).dividedBy(every) + 1;
      return Optional.of(anchor.plus(every.multipliedBy(k)));
    }

    @Override
    public String describe() {
      return "every " + describe(every);
    }

    private static String describe(Duration d) {
      if (d.getNano() != 0) {
        return d.toString();
      }
      long s = d.getSeconds();
      if (s != 0 && s % 86_400 == 0) {
        return s / 86_400 + "d";
      }
      if (s != 0 && s % 3_600 == 0) {
        return s / 3_600 + "h";
      }
      if (s != 0 && s % 60 == 0) {
        return s / 60 + "m";
      }
      return s + "s";
    }
  }

  /** Fires once, at {@code when}. */
  record At(Instant when) implements ScheduleSpec {
    public At {
      if (when == null) {
        throw new IllegalArgumentException("at: missing; allowed: " + SpecText.AT_ALLOWED);
      }
    }

    @Override
    public Optional<Instant> nextAfter(Instant t) {
      return when.isAfter(t) ? Optional.of(when) : Optional.empty();
    }

    @Override
    public String describe() {
      return "once at " + when;
    }
  }

  /**
   * Parses a schedule as the API and CLI receive it.
   *
   * @param kind {@code cron}, {@code rate} or {@code at}
   * @param value the cron expression; the rate ({@code 30s}, {@code 5m}, {@code 1h},
   *     {@code 2d}); or the date-time (ISO-8601 with an offset or zone, or a local one if
   *     {@code zone} is given — a local time in a gap or overlap resolves as cron's do: after
   *     the gap, the earlier occurrence)
   * @param zone an IANA zone id; required for cron, used by at only for a local date-time,
   *     ignored by rate
   * @param now the current time: a rate's anchor is now truncated to the second (so with the
   *     creation time passed to {@link Misfires#due} as the last fire time handled, a rate
   *     first fires one period after creation), and an at not after now is refused
   * @throws IllegalArgumentException with a message for the user naming the field, the value
   *     given and what is allowed
   */
  static ScheduleSpec parse(String kind, String value, String zone, Instant now) {
    String k = kind == null ? "" : kind.trim().toLowerCase(Locale.ROOT);
    switch (k) {
      case "cron":
        if (zone == null || zone.isBlank()) {
          throw new IllegalArgumentException(SpecText.MISSING_ZONE);
        }
        return new Cron(value, zoneId(zone));
      case "rate":
        return new Rate(rate(value), now.truncatedTo(ChronoUnit.SECONDS));
      case "at":
        Instant when = at(value, zone);
        if (!when.isAfter(now)) {
          throw new IllegalArgumentException("at: \"" + value.trim() + "\" (" + when
              + ") is not in the future (now is " + now.truncatedTo(ChronoUnit.SECONDS)
              + "); allowed: a future date-time");
        }
        return new At(when);
      default:
        throw new IllegalArgumentException("kind: \"" + (kind == null ? "" : kind)
            + "\" is not a schedule kind; allowed: cron, rate, at");
    }
  }

  private static ZoneId zoneId(String zone) {
    try {
      return ZoneId.of(zone.trim());
    } catch (DateTimeException e) {
      throw new IllegalArgumentException("zone: \"" + zone + "\" is not a known time zone;"
          + " allowed: an IANA time zone id such as Europe/Berlin, America/New_York or UTC");
    }
  }

  private static Duration rate(String value) {
    String allowed = "; allowed: a whole number of at least 1 followed by s, m, h or d,"
        + " e.g. 30s, 5m, 1h, 2d";
    String v = value == null ? "" : value.trim();
    Matcher m = SpecText.RATE.matcher(v);
    if (!m.matches()) {
      throw new IllegalArgumentException("rate: \"" + v + "\" is not a rate" + allowed);
    }
    long n = Long.parseLong(m.group(1));
    if (n == 0) {
      throw new IllegalArgumentException("rate: \"" + v + "\" is zero" + allowed);
    }
    return switch (m.group(2)) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }

  private static Instant at(String value, String zone) {
    String v = value == null ? "" : value.trim();
    try {
      return ZonedDateTime.parse(v, DateTimeFormatter.ISO_DATE_TIME).toInstant();
    } catch (DateTimeParseException withoutZone) {
      LocalDateTime local;
      try {
        local = LocalDateTime.parse(v);
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException("at: \"" + v + "\" is not an ISO-8601 date-time;"
            + " allowed: " + SpecText.AT_ALLOWED);
      }
      if (zone == null || zone.isBlank()) {
        throw new IllegalArgumentException("at: \"" + v + "\" has no offset or zone and no"
            + " zone is given; allowed: " + SpecText.AT_ALLOWED);
      }
      ZoneId z = zoneId(zone);
      var rules = z.getRules();
      var offsets = rules.getValidOffsets(local);
      if (offsets.isEmpty()) {
        return rules.getTransition(local).getInstant();
      }
      return local.toInstant(offsets.get(0)).isBefore(local.toInstant(offsets.get(offsets.size() - 1)))
          ? local.toInstant(offsets.get(0)) : local.toInstant(offsets.get(offsets.size() - 1));
    }
  }
}
