package io.kiln.queue.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ScheduleSpecTest {

  static final Instant NOW = Instant.parse("2026-11-30T10:15:42.123Z");
  static final ZoneId UTC = ZoneId.of("UTC");
  static final String CRON_ALLOWED = "5 fields \"minute hour day-of-month month day-of-week\""
      + " (each *, a number, a range a-b, a step */n or a-b/n, or a comma list of these;"
      + " months JAN-DEC and days SUN-SAT by name allowed) or one of"
      + " @hourly @daily @weekly @monthly @yearly";
  static final String RATE_ALLOWED = "; allowed: a whole number of at least 1 followed by s, m,"
      + " h or d, e.g. 30s, 5m, 1h, 2d";
  static final String AT_ALLOWED = "allowed: an ISO-8601 date-time with an offset or zone, e.g."
      + " 2026-12-01T09:00:00+01:00 or 2026-12-01T09:00:00Z, or one without them if zone is"
      + " given";

  /** The fire times in (from, to], computed by repeated nextAfter. */
  static List<Instant> fires(ScheduleSpec s, String from, String to) {
    List<Instant> out = new ArrayList<>();
    Instant end = Instant.parse(to);
    Optional<Instant> n = s.nextAfter(Instant.parse(from));
    while (n.isPresent() && !n.get().isAfter(end)) {
      out.add(n.get());
      n = s.nextAfter(n.get());
    }
    return out;
  }

  static List<Instant> instants(String... s) {
    return java.util.Arrays.stream(s).map(Instant::parse).toList();
  }

  static void refused(String message, Runnable r) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, r::run);
    assertEquals(message, e.getMessage());
  }

  // --- parse errors -------------------------------------------------------------------------

  @Test
  void cronWithoutZoneIsRefusedNeverImplied() {
    String msg = "zone: missing; a cron schedule needs an explicit IANA time zone such as"
        + " Europe/Berlin or UTC; none is ever implied";
    refused(msg, () -> ScheduleSpec.parse("cron", "0 9 * * *", null, NOW));
    refused(msg, () -> ScheduleSpec.parse("cron", "0 9 * * *", " ", NOW));
    refused(msg, () -> new ScheduleSpec.Cron("0 9 * * *", null));
  }

  @Test
  void badZoneId() {
    refused("zone: \"Europe/Berln\" is not a known time zone; allowed: an IANA time zone id"
        + " such as Europe/Berlin, America/New_York or UTC",
        () -> ScheduleSpec.parse("cron", "0 9 * * *", "Europe/Berln", NOW));
  }

  @Test
  void badCron() {
    refused("cron expression \"0 9 * *\" has 4 fields; allowed: " + CRON_ALLOWED,
        () -> ScheduleSpec.parse("cron", "0 9 * *", "UTC", NOW));
    refused("cron expression \"61 9 * * *\": minute field \"61\": 61 is out of range; allowed:"
        + " 0-59, *, ranges a-b, steps */n or a-b/n, comma lists",
        () -> ScheduleSpec.parse("cron", "61 9 * * *", "UTC", NOW));
    refused("cron expression \"0 9 * * MON-FUN\": day-of-week field \"MON-FUN\": \"FUN\" is not"
        + " a number; allowed: 0-7 or SUN-SAT (0 and 7 are Sunday), *, ranges a-b, steps */n or"
        + " a-b/n, comma lists",
        () -> ScheduleSpec.parse("cron", "0 9 * * MON-FUN", "UTC", NOW));
    refused("cron expression \"0 9 * 12-3 *\": month field \"12-3\": range 12-3 runs backwards;"
        + " allowed: 1-12 or JAN-DEC, *, ranges a-b, steps */n or a-b/n, comma lists",
        () -> ScheduleSpec.parse("cron", "0 9 * 12-3 *", "UTC", NOW));
    refused("cron expression \"*/0 * * * *\": minute field \"*/0\": step \"0\" is not allowed;"
        + " allowed: a step of 1-60 after *, a range a-b or a start value",
        () -> ScheduleSpec.parse("cron", "*/0 * * * *", "UTC", NOW));
    refused("cron expression \"0 0 30 2 *\" never fires: no selected month has day-of-month 30;"
        + " allowed: a day that exists in one of the selected months",
        () -> ScheduleSpec.parse("cron", "0 0 30 2 *", "UTC", NOW));
    refused("cron expression \"@reboot\": unknown macro; allowed: " + CRON_ALLOWED,
        () -> ScheduleSpec.parse("cron", "@reboot", "UTC", NOW));
    refused("cron expression is missing; allowed: " + CRON_ALLOWED,
        () -> ScheduleSpec.parse("cron", null, "UTC", NOW));
  }

  @Test
  void badRate() {
    refused("rate: \"0s\" is zero" + RATE_ALLOWED,
        () -> ScheduleSpec.parse("rate", "0s", null, NOW));
    refused("rate: \"5x\" is not a rate" + RATE_ALLOWED,
        () -> ScheduleSpec.parse("rate", "5x", null, NOW));
    refused("rate: \"-5m\" is not a rate" + RATE_ALLOWED,
        () -> ScheduleSpec.parse("rate", "-5m", null, NOW));
    refused("rate \"PT0.5S\" is too short; allowed: at least 1s, e.g. 30s, 5m, 1h, 2d",
        () -> new ScheduleSpec.Rate(Duration.ofMillis(500), NOW));
  }

  @Test
  void badAtAndKind() {
    refused("at: \"2026-12-01T09:00:00\" has no offset or zone and no zone is given; "
        + AT_ALLOWED, () -> ScheduleSpec.parse("at", "2026-12-01T09:00:00", null, NOW));
    refused("at: \"tomorrow\" is not an ISO-8601 date-time; " + AT_ALLOWED,
        () -> ScheduleSpec.parse("at", "tomorrow", "UTC", NOW));
    refused("at: \"2026-11-01T09:00:00Z\" (2026-11-01T09:00:00Z) is not in the future (now is"
        + " 2026-11-30T10:15:42Z); allowed: a future date-time",
        () -> ScheduleSpec.parse("at", "2026-11-01T09:00:00Z", null, NOW));
    refused("kind: \"weekly\" is not a schedule kind; allowed: cron, rate, at",
        () -> ScheduleSpec.parse("weekly", "x", null, NOW));
  }

  // --- parse and describe -------------------------------------------------------------------

  @Test
  void parsesAndDescribes() {
    assertEquals(new ScheduleSpec.Cron("0 9 * * MON-FRI", ZoneId.of("Europe/Berlin")),
        ScheduleSpec.parse("cron", " 0 9 * * MON-FRI ", "Europe/Berlin", NOW));
    assertEquals("cron \"0 9 * * MON-FRI\" in Europe/Berlin",
        ScheduleSpec.parse("cron", "0 9 * * MON-FRI", "Europe/Berlin", NOW).describe());
    assertEquals(new ScheduleSpec.Rate(Duration.ofMinutes(5), Instant.parse("2026-11-30T10:15:42Z")),
        ScheduleSpec.parse("rate", "5m", null, NOW));
    assertEquals("every 5m", ScheduleSpec.parse("rate", "5m", null, NOW).describe());
    assertEquals("every 30s", ScheduleSpec.parse("rate", "30s", null, NOW).describe());
    assertEquals("every 1h", ScheduleSpec.parse("rate", "60m", null, NOW).describe());
    assertEquals("every 2d", ScheduleSpec.parse("rate", "2d", null, NOW).describe());
    assertEquals("every 90s", ScheduleSpec.parse("rate", "90s", null, NOW).describe());
    assertEquals("once at 2026-12-01T08:00:00Z",
        ScheduleSpec.parse("at", "2026-12-01T09:00:00+01:00", null, NOW).describe());
    assertEquals(new ScheduleSpec.At(Instant.parse("2026-12-01T09:00:00Z")),
        ScheduleSpec.parse("at", "2026-12-01T09:00:00Z", null, NOW));
    assertEquals(new ScheduleSpec.At(Instant.parse("2026-12-01T08:00:00Z")),
        ScheduleSpec.parse("at", "2026-12-01T09:00:00+01:00[Europe/Berlin]", null, NOW));
    assertEquals(new ScheduleSpec.At(Instant.parse("2026-12-01T08:00:00Z")),
        ScheduleSpec.parse("at", "2026-12-01T09:00:00", "Europe/Berlin", NOW));
    // a local at-time in a gap resolves like cron: the first instant after the gap
    assertEquals(new ScheduleSpec.At(Instant.parse("2027-03-28T01:00:00Z")),
        ScheduleSpec.parse("at", "2027-03-28T02:30:00", "Europe/Berlin", NOW));
    assertEquals("cron \"@daily\" in UTC", ScheduleSpec.parse("cron", "@daily", "UTC", NOW).describe());
  }

  // --- cron expressions ---------------------------------------------------------------------

  @Test
  void weekdaysInBerlin() {
    var s = new ScheduleSpec.Cron("0 9 * * MON-FRI", ZoneId.of("Europe/Berlin"));
    // Thu 2026-11-26 .. Tue 2026-12-01: Thu, Fri, Mon, Tue at 09:00 CET = 08:00Z
    assertEquals(instants("2026-11-26T08:00:00Z", "2026-11-27T08:00:00Z", "2026-11-30T08:00:00Z",
        "2026-12-01T08:00:00Z"), fires(s, "2026-11-26T00:00:00Z", "2026-12-01T23:00:00Z"));
    // strictly after: asked at a fire time, it gives the next one
    assertEquals(Optional.of(Instant.parse("2026-11-30T08:00:00Z")),
        s.nextAfter(Instant.parse("2026-11-27T08:00:00Z")));
    // summer: 09:00 CEST = 07:00Z
    assertEquals(Optional.of(Instant.parse("2026-07-01T07:00:00Z")),
        s.nextAfter(Instant.parse("2026-07-01T06:59:59.999Z")));
  }

  @Test
  void stepsListsRangesNames() {
    assertEquals(instants("2026-11-30T00:05:00Z", "2026-11-30T00:35:00Z", "2026-11-30T06:05:00Z",
        "2026-11-30T06:35:00Z", "2026-11-30T12:05:00Z"),
        fires(new ScheduleSpec.Cron("5,35 */6 * * *", UTC), "2026-11-29T23:59:00Z",
            "2026-11-30T12:10:00Z"));
    assertEquals(instants("2026-11-30T09:00:00Z", "2026-11-30T13:00:00Z", "2026-11-30T17:00:00Z"),
        fires(new ScheduleSpec.Cron("0 9-17/4 * * *", UTC), "2026-11-30T00:00:00Z",
            "2026-11-30T23:59:00Z"));
    assertEquals(instants("2027-01-01T00:00:00Z", "2027-01-15T00:00:00Z", "2027-07-01T00:00:00Z"),
        fires(new ScheduleSpec.Cron("0 0 1,15 JAN,jul *", UTC), "2026-11-30T00:00:00Z",
            "2027-07-10T00:00:00Z"));
    // day-of-month and day-of-week both restricted: either matches (Vixie)
    assertEquals(instants("2026-12-04T00:00:00Z", "2026-12-11T00:00:00Z", "2026-12-13T00:00:00Z",
        "2026-12-18T00:00:00Z"),
        fires(new ScheduleSpec.Cron("0 0 13 * FRI", UTC), "2026-11-30T00:00:00Z",
            "2026-12-18T00:00:00Z"));
    // 7 is Sunday, as is 0
    assertEquals(Optional.of(Instant.parse("2026-12-06T12:00:00Z")),
        new ScheduleSpec.Cron("0 12 * * 7", UTC).nextAfter(NOW));
    assertEquals(Optional.of(Instant.parse("2026-12-06T12:00:00Z")),
        new ScheduleSpec.Cron("0 12 * * SUN", UTC).nextAfter(NOW));
    // day-of-month step with day-of-week * : both must match, the step is honoured
    assertEquals(instants("2026-12-01T00:00:00Z", "2026-12-03T00:00:00Z"),
        fires(new ScheduleSpec.Cron("0 0 */2 * *", UTC), "2026-11-30T00:00:00Z",
            "2026-12-04T00:00:00Z"));
    // Feb 29 only: next leap year
    assertEquals(Optional.of(Instant.parse("2028-02-29T00:00:00Z")),
        new ScheduleSpec.Cron("0 0 29 2 *", UTC).nextAfter(NOW));
    // macros
    assertEquals(Optional.of(Instant.parse("2026-11-30T11:00:00Z")),
        new ScheduleSpec.Cron("@hourly", UTC).nextAfter(NOW));
    assertEquals(Optional.of(Instant.parse("2026-12-06T00:00:00Z")),
        new ScheduleSpec.Cron("@weekly", UTC).nextAfter(NOW));
    assertEquals(Optional.of(Instant.parse("2026-12-01T00:00:00Z")),
        new ScheduleSpec.Cron("@monthly", UTC).nextAfter(NOW));
    assertEquals(Optional.of(Instant.parse("2027-01-01T00:00:00Z")),
        new ScheduleSpec.Cron("@yearly", UTC).nextAfter(NOW));
  }

  // --- rate and at --------------------------------------------------------------------------

  @Test
  void rate() {
    var s = ScheduleSpec.parse("rate", "30s", null, NOW); // anchor 10:15:42
    assertEquals(Optional.of(Instant.parse("2026-11-30T10:15:42Z")),
        s.nextAfter(Instant.parse("2026-11-30T10:00:00Z")));
    assertEquals(Optional.of(Instant.parse("2026-11-30T10:16:12Z")),
        s.nextAfter(Instant.parse("2026-11-30T10:15:42Z")));
    assertEquals(Optional.of(Instant.parse("2026-11-30T10:16:12Z")),
        s.nextAfter(NOW));
    assertEquals(Optional.of(Instant.parse("2026-11-30T10:16:42Z")),
        s.nextAfter(Instant.parse("2026-11-30T10:16:12Z")));
    // a rate is real time: 1h across Berlin's fall back is still 60 real minutes
    var h = new ScheduleSpec.Rate(Duration.ofHours(1), Instant.parse("2026-10-25T00:00:00Z"));
    assertEquals(instants("2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"),
        fires(h, "2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z"));
  }

  @Test
  void at() {
    var s = new ScheduleSpec.At(Instant.parse("2026-12-01T08:00:00Z"));
    assertEquals(Optional.of(Instant.parse("2026-12-01T08:00:00Z")), s.nextAfter(NOW));
    assertEquals(Optional.empty(), s.nextAfter(Instant.parse("2026-12-01T08:00:00Z")));
  }
}
