package io.kiln.queue.schedule;

import static io.kiln.queue.schedule.ScheduleSpecTest.fires;
import static io.kiln.queue.schedule.ScheduleSpecTest.instants;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.ZoneId;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The DST rules stated on {@link ScheduleSpec.Cron}, on 2026's transitions. */
class CronDstTest {

  static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
  static final ZoneId NEW_YORK = ZoneId.of("America/New_York");
  static final ZoneId LORD_HOWE = ZoneId.of("Australia/Lord_Howe");

  static ScheduleSpec cron(String e, ZoneId z) {
    return new ScheduleSpec.Cron(e, z);
  }

  // --- Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z); 2026-10-25 03:00 CEST -> 02:00 CET (01:00Z)

  @Test
  void berlinSpringForwardFiresOnceAfterTheGap() {
    // 02:30 does not exist on the 29th: fires at 03:00 CEST, once; the days around are normal
    assertEquals(instants("2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"),
        fires(cron("30 2 * * *", BERLIN), "2026-03-27T12:00:00Z", "2026-03-30T12:00:00Z"));
    // four matching times in the gap fire once in total
    assertEquals(instants("2026-03-28T01:00:00Z", "2026-03-28T01:15:00Z", "2026-03-28T01:30:00Z",
        "2026-03-28T01:45:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z"),
        fires(cron("*/15 2 * * *", BERLIN), "2026-03-27T12:00:00Z", "2026-03-30T00:00:00Z"));
    // a matching 03:00 coincides with the gap's firing: still one firing
    assertEquals(instants("2026-03-29T01:00:00Z", "2026-03-29T01:30:00Z"),
        fires(cron("0,30 2,3 * * *", BERLIN), "2026-03-28T12:00:00Z", "2026-03-29T02:00:00Z"));
  }

  @Test
  void berlinSpringForwardEveryHalfHourSkipsNothingItShouldNot() {
    // 01:00 CET, 01:30 CET, then 02:00/02:30/03:00 collapse to 03:00 CEST, 03:30 CEST, 04:00 CEST
    assertEquals(instants("2026-03-29T00:00:00Z", "2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z",
        "2026-03-29T01:30:00Z", "2026-03-29T02:00:00Z"),
        fires(cron("*/30 * * * *", BERLIN), "2026-03-28T23:45:00Z", "2026-03-29T02:00:00Z"));
  }

  @Test
  void berlinFallBackFiresOnceAtTheFirstOccurrence() {
    // 02:30 occurs twice on the 25th: fires at 02:30 CEST (00:30Z) only
    assertEquals(instants("2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"),
        fires(cron("30 2 * * *", BERLIN), "2026-10-23T12:00:00Z", "2026-10-26T12:00:00Z"));
    // also when asked from inside the repeated hour (02:10 CET): no second firing
    assertEquals(Optional.of(Instant.parse("2026-10-26T01:30:00Z")),
        cron("30 2 * * *", BERLIN).nextAfter(Instant.parse("2026-10-25T01:10:00Z")));
    // a fixed hour with a minute step: the first occurrences only
    assertEquals(instants("2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z"),
        fires(cron("*/30 2 * * *", BERLIN), "2026-10-24T12:00:00Z", "2026-10-26T00:00:00Z"));
  }

  @Test
  void berlinFallBackEveryHourExpressionFiresAtBothOccurrences() {
    // 4 firings from 02:00 CEST to before 03:00 CET: 02:00 CEST, 02:30 CEST, 02:00 CET, 02:30 CET
    assertEquals(instants("2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:00:00Z",
        "2026-10-25T01:30:00Z"),
        fires(cron("*/30 * * * *", BERLIN), "2026-10-24T23:59:59Z", "2026-10-25T01:59:59Z"));
    assertEquals(Optional.of(Instant.parse("2026-10-25T02:00:00Z")),
        cron("*/30 * * * *", BERLIN).nextAfter(Instant.parse("2026-10-25T01:30:00Z")));
    // asked from inside the second occurrence
    assertEquals(Optional.of(Instant.parse("2026-10-25T01:30:00Z")),
        cron("*/30 * * * *", BERLIN).nextAfter(Instant.parse("2026-10-25T01:10:00Z")));
    // @hourly too: 02:00 twice
    assertEquals(instants("2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"),
        fires(cron("@hourly", BERLIN), "2026-10-24T23:30:00Z", "2026-10-25T02:00:00Z"));
    // 0-23 selects every hour just as * does
    assertEquals(instants("2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"),
        fires(cron("0 0-23 * * *", BERLIN), "2026-10-24T23:30:00Z", "2026-10-25T02:00:00Z"));
  }

  // --- America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z)

  @Test
  void newYorkSpringForward() {
    assertEquals(instants("2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"),
        fires(cron("30 2 * * *", NEW_YORK), "2026-03-06T12:00:00Z", "2026-03-09T12:00:00Z"));
    // 01:00 EST, 01:30 EST, 03:00 EDT (02:00 and 02:30 collapse into it), 03:30 EDT
    assertEquals(instants("2026-03-08T06:00:00Z", "2026-03-08T06:30:00Z", "2026-03-08T07:00:00Z",
        "2026-03-08T07:30:00Z"),
        fires(cron("*/30 * * * *", NEW_YORK), "2026-03-08T05:59:00Z", "2026-03-08T07:30:00Z"));
  }

  @Test
  void newYorkFallBack() {
    // 01:30 occurs twice on Nov 1: the first, 01:30 EDT = 05:30Z
    assertEquals(instants("2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"),
        fires(cron("30 1 * * *", NEW_YORK), "2026-10-30T12:00:00Z", "2026-11-02T12:00:00Z"));
    // 02:30 is not ambiguous: 02:30 EST
    assertEquals(Optional.of(Instant.parse("2026-11-01T07:30:00Z")),
        cron("30 2 * * *", NEW_YORK).nextAfter(Instant.parse("2026-10-31T12:00:00Z")));
    // every half hour: 01:00 EDT, 01:30 EDT, 01:00 EST, 01:30 EST, then 02:00 EST
    assertEquals(instants("2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-01T06:00:00Z",
        "2026-11-01T06:30:00Z", "2026-11-01T07:00:00Z"),
        fires(cron("*/30 * * * *", NEW_YORK), "2026-11-01T04:59:00Z", "2026-11-01T07:00:00Z"));
  }

  // --- Australia/Lord_Howe shifts by 30 minutes:
  // 2026-04-05 02:00 +11:00 -> 01:30 +10:30 (15:00Z on the 4th); 2026-10-04 02:00 +10:30 -> 02:30 +11:00 (15:30Z on the 3rd)

  @Test
  void lordHoweHalfHourShift() {
    // gap 02:00-02:30: 02:15 fires at 02:30 +11:00, once
    assertEquals(instants("2026-10-02T15:45:00Z", "2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"),
        fires(cron("15 2 * * *", LORD_HOWE), "2026-10-02T00:00:00Z", "2026-10-05T00:00:00Z"));
    // overlap 01:30-02:00: 01:45 fires at its first occurrence (+11:00) only
    assertEquals(instants("2026-04-03T14:45:00Z", "2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"),
        fires(cron("45 1 * * *", LORD_HOWE), "2026-04-03T00:00:00Z", "2026-04-06T00:00:00Z"));
    // every 15 minutes keeps firing every 15 real minutes through the repeated half hour
    assertEquals(instants("2026-04-04T14:30:00Z", "2026-04-04T14:45:00Z", "2026-04-04T15:00:00Z",
        "2026-04-04T15:15:00Z", "2026-04-04T15:30:00Z"),
        fires(cron("*/15 * * * *", LORD_HOWE), "2026-04-04T14:20:00Z", "2026-04-04T15:30:00Z"));
  }
}
