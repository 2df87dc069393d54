package io.kiln.queue.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneOffsetTransition;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * nextAfter against a minute-by-minute simulation of the stated rules, written independently:
 * walk real minutes; a minute fires if its local time matches, unless it is the second
 * occurrence of an overlap and the hour field is not every hour; a gap's transition minute
 * fires if any local time in the gap matches.
 */
class CronBruteForceTest {

  static final String[] EXPRESSIONS = {
    "* * * * *", "*/15 * * * *", "*/30 * * * *", "0 * * * *", "30 2 * * *", "15 2 * * *",
    "45 1 * * *", "*/15 2 * * *", "0,30 1-3 * * *", "7 */2 * * *", "0 0-23 * * *",
    "59 1 * * SUN", "0 3 * * *", "*/10 0-4 * * *", "30 * * * *",
  };

  static List<Instant> simulate(String expr, ZoneId zone, Instant from, Instant to) {
    var rules = zone.getRules();
    // Does the expression match this local minute? Asked of the same expression in UTC, where
    // local time is the instant, so only field matching is shared with the code under test.
    ScheduleSpec utc = new ScheduleSpec.Cron(expr, ZoneOffset.UTC);
    java.util.function.Predicate<LocalDateTime> matches = l -> {
      Instant asUtc = l.toInstant(ZoneOffset.UTC);
      return utc.nextAfter(asUtc.minusSeconds(1)).orElseThrow().equals(asUtc);
    };
    boolean everyHour = hourFieldIsEvery(expr);
    List<Instant> out = new ArrayList<>();
    for (Instant m = from.truncatedTo(ChronoUnit.MINUTES).plusSeconds(60); !m.isAfter(to);
        m = m.plusSeconds(60)) {
      ZoneOffsetTransition tr = rules.nextTransition(m.minusSeconds(1));
      boolean atTransition = tr != null && tr.getInstant().equals(m);
      LocalDateTime local = LocalDateTime.ofInstant(m, zone);
      boolean fire = false;
      if (matches.test(local)) {
        boolean second = rules.getValidOffsets(local).size() == 2
            && rules.getOffset(m).equals(rules.getValidOffsets(local).stream()
                .min((a, b) -> Integer.compare(a.getTotalSeconds(), b.getTotalSeconds())).get());
        fire = !second || everyHour;
      }
      if (atTransition && tr.isGap()
          && matchesAnyMinute(matches, tr.getDateTimeBefore(),
              (int) tr.getDuration().toMinutes())) {
        fire = true;
      }
      if (fire) {
        out.add(m);
      }
    }
    return out;
  }

  static boolean hourFieldIsEvery(String expr) {
    String h = expr.split(" ")[1];
    return h.equals("*") || h.equals("0-23");
  }

  static boolean matchesAnyMinute(java.util.function.Predicate<LocalDateTime> p,
      LocalDateTime start, int minutes) {
    for (int i = 0; i < minutes; i++) {
      if (p.test(start.plusMinutes(i))) {
        return true;
      }
    }
    return false;
  }

  @Test
  void agreesWithSimulationAroundTransitions() {
    String[][] windows = {
      {"Europe/Berlin", "2026-03-28T20:00:00Z", "2026-03-29T06:00:00Z"},
      {"Europe/Berlin", "2026-10-24T20:00:00Z", "2026-10-25T06:00:00Z"},
      {"America/New_York", "2026-03-08T02:00:00Z", "2026-03-08T12:00:00Z"},
      {"America/New_York", "2026-11-01T02:00:00Z", "2026-11-01T12:00:00Z"},
      {"Australia/Lord_Howe", "2026-04-04T10:00:00Z", "2026-04-04T20:00:00Z"},
      {"Australia/Lord_Howe", "2026-10-03T10:00:00Z", "2026-10-03T20:00:00Z"},
      {"UTC", "2026-11-29T20:00:00Z", "2026-11-30T06:00:00Z"},
    };
    for (String[] w : windows) {
      ZoneId zone = ZoneId.of(w[0]);
      for (String e : EXPRESSIONS) {
        List<Instant> expected = simulate(e, zone, Instant.parse(w[1]), Instant.parse(w[2]));
        List<Instant> actual = ScheduleSpecTest.fires(new ScheduleSpec.Cron(e, zone), w[1], w[2]);
        assertEquals(expected, actual, e + " in " + w[0] + " from " + w[1]);
      }
    }
  }
}
