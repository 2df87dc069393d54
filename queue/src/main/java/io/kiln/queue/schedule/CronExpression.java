package io.kiln.queue.schedule;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.zone.ZoneOffsetTransition;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneRules;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed 5-field Unix cron expression and its fire times in a zone, by the rules stated on
 * {@link ScheduleSpec.Cron}. Package-private: the public face is {@code ScheduleSpec.Cron}.
 *
 * <p>Matching is Vixie cron's: day-of-week 0-7 (0 and 7 are Sunday); when both day-of-month
 * and day-of-week are restricted (neither starts with {@code *}) a day matches if EITHER
 * matches, otherwise both must.
 */
final class CronExpression {

  private static final Map<String, String> MACROS = Map.of(
      "@yearly", "0 0 1 1 *",
      "@annually", "0 0 1 1 *",
      "@monthly", "0 0 1 * *",
      "@weekly", "0 0 * * 0",
      "@daily", "0 0 * * *",
      "@midnight", "0 0 * * *",
      "@hourly", "0 * * * *");

  static final String ALLOWED = "5 fields \"minute hour day-of-month month day-of-week\""
      + " (each *, a number, a range a-b, a step */n or a-b/n, or a comma list of these;"
      + " months JAN-DEC and days SUN-SAT by name allowed) or one of"
      + " @hourly @daily @weekly @monthly @yearly";

  private static final String[] MONTHS =
      {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  private static final String[] DAYS = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

  /** How far ahead a search for the next matching local time goes before giving up. */
  private static final int SEARCH_YEARS = 30;

  private final BitSet minutes;
  private final BitSet hours;
  private final BitSet daysOfMonth;
  private final BitSet months;
  private final BitSet daysOfWeek;
  private final boolean domStar;
  private final boolean dowStar;
  private final boolean everyHour;

  private CronExpression(BitSet minutes, BitSet hours, BitSet daysOfMonth, BitSet months,
      BitSet daysOfWeek, boolean domStar, boolean dowStar) {
    this.minutes = minutes;
    this.hours = hours;
    this.daysOfMonth = daysOfMonth;
    this.months = months;
    this.daysOfWeek = daysOfWeek;
    this.domStar = domStar;
    this.dowStar = dowStar;
    this.everyHour = hours.cardinality() == 24;
  }

  /** Parses {@code expression}; every refusal is an IllegalArgumentException for a user. */
  static CronExpression parse(String expression) {
    if (expression == null || expression.isBlank()) {
      throw new IllegalArgumentException("cron expression is missing; allowed: " + ALLOWED);
    }
    String expr = expression.trim();
    String text = expr;
    if (expr.startsWith("@")) {
      text = MACROS.get(expr.toLowerCase(Locale.ROOT));
      if (text == null) {
        throw new IllegalArgumentException("cron expression \"" + expr
            + "\": unknown macro; allowed: " + ALLOWED);
      }
    }
    String[] f = text.split("\\s+");
    if (f.length != 5) {
      throw new IllegalArgumentException("cron expression \"" + expr + "\" has " + f.length
          + (f.length == 1 ? " field" : " fields") + "; allowed: " + ALLOWED);
    }
    BitSet minutes = field(expr, "minute", f[0], 0, 59, null);
    BitSet hours = field(expr, "hour", f[1], 0, 23, null);
    BitSet dom = field(expr, "day-of-month", f[2], 1, 31, null);
    BitSet months = field(expr, "month", f[3], 1, 12, MONTHS);
    BitSet dow = field(expr, "day-of-week", f[4], 0, 7, DAYS);
    if (dow.get(7)) {
      dow.clear(7);
      dow.set(0);
    }
    boolean domStar = f[2].startsWith("*");
    boolean dowStar = f[4].startsWith("*");
    CronExpression c = new CronExpression(minutes, hours, dom, months, dow, domStar, dowStar);
    if (!domStar && dowStar && !c.someMonthHasADay()) {
      throw new IllegalArgumentException("cron expression \"" + expr + "\" never fires: no"
          + " selected month has day-of-month " + f[2] + "; allowed: a day that exists in one"
          + " of the selected months");
    }
    return c;
  }

  private boolean someMonthHasADay() {
    int[] longest = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int m = months.nextSetBit(1); m >= 0; m = months.nextSetBit(m + 1)) {
      if (daysOfMonth.nextSetBit(1) <= longest[m - 1]) {
        return true;
      }
    }
    return false;
  }

  private static BitSet field(String expr, String name, String text, int min, int max,
      String[] names) {
    BitSet set = new BitSet(max + 1);
    for (String part : text.split(",", -1)) {
      String range = part;
      int step = 1;
      int slash = part.indexOf('/');
      if (slash >= 0) {
        range = part.substring(0, slash);
        String st = part.substring(slash + 1);
        int maxStep = (max == 7 ? 6 : max) - min + 1;
        if (st.isEmpty() || st.length() > 4 || !st.chars().allMatch(Character::isDigit)
            || Integer.parseInt(st) < 1 || Integer.parseInt(st) > maxStep) {
          throw new IllegalArgumentException("cron expression \"" + expr + "\": " + name
              + " field \"" + text + "\": step \"" + st + "\" is not allowed; allowed: a step"
              + " of 1-" + maxStep + " after *, a range a-b or a start value");
        }
        step = Integer.parseInt(st);
      }
      int lo;
      int hi;
      if (range.equals("*")) {
        lo = min;
        hi = max == 7 ? 6 : max;
      } else {
        int dash = range.indexOf('-');
        if (dash > 0) {
          lo = number(expr, name, text, range.substring(0, dash), min, max, names);
          hi = number(expr, name, text, range.substring(dash + 1), min, max, names);
          if (lo > hi) {
            throw bad(expr, name, text, "range " + range + " runs backwards", min, max, names);
          }
        } else {
          lo = number(expr, name, text, range, min, max, names);
          hi = slash >= 0 ? (max == 7 ? 6 : max) : lo;
        }
      }
      for (int v = lo; v <= hi; v += step) {
        set.set(v);
      }
    }
    return set;
  }

  private static int number(String expr, String name, String text, String s, int min, int max,
      String[] names) {
    if (names != null) {
      for (int i = 0; i < names.length; i++) {
        if (names[i].equalsIgnoreCase(s)) {
          return i + min;
        }
      }
    }
    if (s.isEmpty() || s.length() > 4 || !s.chars().allMatch(Character::isDigit)) {
      throw bad(expr, name, text, "\"" + s + "\" is not a number", min, max, names);
    }
    int v = Integer.parseInt(s);
    if (v < min || v > max) {
      throw bad(expr, name, text, s + " is out of range", min, max, names);
    }
    return v;
  }

  private static IllegalArgumentException bad(String expr, String name, String text,
      String problem, int min, int max, String[] names) {
    String allowed = min + "-" + max;
    if (names != null) {
      allowed += " or " + names[0] + "-" + names[names.length - 1];
    }
    if (max == 7) {
      allowed += " (0 and 7 are Sunday)";
    }
    return new IllegalArgumentException("cron expression \"" + expr + "\": " + name + " field \""
        + text + "\": " + problem + "; allowed: " + allowed + ", *, ranges a-b, steps */n or"
        + " a-b/n, comma lists");
  }

  boolean everyHour() {
    return everyHour;
  }

  private boolean dayMatches(LocalDate d) {
    boolean dom = daysOfMonth.get(d.getDayOfMonth());
    boolean dow = daysOfWeek.get(d.getDayOfWeek() == DayOfWeek.SUNDAY ? 0
        : d.getDayOfWeek().getValue());
    return (domStar || dowStar) ? dom && dow : dom || dow;
  }

  /** The first matching local time at or after {@code from} (minute-aligned), or null. */
  LocalDateTime nextMatch(LocalDateTime from, LocalDateTime limit) {
    LocalDateTime l = from.truncatedTo(ChronoUnit.MINUTES);
    if (l.isBefore(from)) {
      l = l.plusMinutes(1);
    }
    while (!l.isAfter(limit)) {
      if (!months.get(l.getMonthValue())) {
        l = l.toLocalDate().withDayOfMonth(1).plusMonths(1).atStartOfDay();
        continue;
      }
      if (!dayMatches(l.toLocalDate())) {
        l = l.toLocalDate().plusDays(1).atStartOfDay();
        continue;
      }
      int h = hours.nextSetBit(l.getHour());
      if (h < 0) {
        l = l.toLocalDate().plusDays(1).atStartOfDay();
        continue;
      }
      if (h != l.getHour()) {
        l = l.withHour(h).withMinute(0);
      }
      int m = minutes.nextSetBit(l.getMinute());
      if (m < 0) {
        l = l.withMinute(0).plusHours(1);
        continue;
      }
      return l.withMinute(m);
    }
    return null;
  }

  /**
   * The instant a matching local time fires at if it fires once: its only instant; the first
   * instant after the gap if it falls in a gap; its first (earlier) occurrence in an overlap.
   * This mapping is non-decreasing in local time.
   */
  private static Instant firstInstant(ZoneRules rules, LocalDateTime l) {
    List<ZoneOffset> offsets = rules.getValidOffsets(l);
    if (offsets.isEmpty()) {
      return rules.getTransition(l).getInstant();
    }
    Instant best = null;
    for (ZoneOffset o : offsets) {
      Instant i = l.toInstant(o);
      if (best == null || i.isBefore(best)) {
        best = i;
      }
    }
    return best;
  }

  /** The first fire time strictly after {@code t} in {@code zone}. */
  Optional<Instant> nextAfter(Instant t, ZoneId zone) {
    ZoneRules rules = zone.getRules();
    LocalDateTime local = LocalDateTime.ofInstant(t, zone);
    LocalDateTime limit = local.plusYears(SEARCH_YEARS);
    // firstInstant is non-decreasing and firstInstant(local(t)) <= t, so no local time before
    // local(t) can give an instant after t: scan forward from there.
    Instant best = null;
    LocalDateTime l = local.truncatedTo(ChronoUnit.MINUTES);
    while ((l = nextMatch(l, limit)) != null) {
      Instant i = firstInstant(rules, l);
      if (i.isAfter(t)) {
        best = i;
        break;
      }
      l = l.plusMinutes(1);
    }
    if (everyHour) {
      // Second occurrences in overlaps: they lie in [transition, transition + overlap).
      ZoneOffsetTransition tr = rules.previousTransition(t.plusSeconds(1));
      if (tr != null && tr.isOverlap()) {
        best = earlier(best, secondOccurrence(tr, t));
      }
      tr = rules.nextTransition(t);
      Instant horizon = t.plus(SEARCH_YEARS * 366L, ChronoUnit.DAYS);
      while (tr != null && tr.getInstant().isBefore(best == null ? horizon : best)) {
        if (tr.isOverlap()) {
          best = earlier(best, secondOccurrence(tr, t));
        }
        tr = rules.nextTransition(tr.getInstant());
      }
    }
    return Optional.ofNullable(best);
  }

  /** The first second occurrence (later offset) of a matching local time in tr's overlap, after t. */
  private Instant secondOccurrence(ZoneOffsetTransition tr, Instant t) {
    LocalDateTime end = tr.getDateTimeBefore(); // the overlap is [dateTimeAfter, dateTimeBefore)
    LocalDateTime l = tr.getDateTimeAfter();
    while ((l = nextMatch(l, end)) != null && l.isBefore(end)) {
      Instant i = l.toInstant(tr.getOffsetAfter());
      if (i.isAfter(t)) {
        return i;
      }
      l = l.plusMinutes(1);
    }
    return null;
  }

  private static Instant earlier(Instant a, Instant b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    return a.isBefore(b) ? a : b;
  }
}
